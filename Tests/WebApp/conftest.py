"""Fixtures of the browser suite: a real engine, web/ served over HTTP, headless Chromium driven
by Selenium, and hypha-rpc (Python) clients on a background event loop.

Run: cd <repo> && .venv-test/bin/python -m pytest -q Tests/WebApp
"""

from __future__ import annotations

import re

import pytest
from hypha_rpc import connect_to_server
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from webapp_helpers import Engine, PyLoop, StaticServer, chromium_paths, run_js

_ENGINES: list[Engine] = []


def pytest_configure(config):
    config.addinivalue_line("markers", "console_allows(*patterns): browser console errors matching these regexes are expected")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for engine in _ENGINES:
            report.sections.append(("engine output, last lines", engine.reader.tail(60)))


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("imjoy-data")
    handle = Engine(data_dir)
    _ENGINES.append(handle)
    try:
        yield handle
        assert handle.alive(), "the engine died during the browser tests"
    finally:
        handle.stop()


@pytest.fixture(scope="session")
def web():
    server = StaticServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def driver():
    chromium, chromedriver = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-extensions", "--window-size=1024,768"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    drv.set_page_load_timeout(30)
    try:
        yield drv
    finally:
        drv.quit()


@pytest.fixture
def page(driver, web, engine, request):
    """A fresh blank page (cross-origin to the engine). After the test the page is left, which closes
    its connections, and the browser console must hold no errors."""
    driver.get(f"{web.url}/blank.html")
    driver.get_log("browser")  # drop anything from before this test
    yield driver
    driver.get("about:blank")
    marker = request.node.get_closest_marker("console_allows")
    allowed = [re.compile(p) for p in (marker.args if marker else ())]
    errors = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"
              and not any(rx.search(entry.get("message", "")) for rx in allowed)]
    assert not errors, "browser console errors:\n" + "\n".join(e.get("message", "") for e in errors)


@pytest.fixture(scope="session")
def pyloop():
    loop = PyLoop()
    try:
        yield loop
    finally:
        loop.stop()


class PyClients:
    """hypha-rpc clients for one test, disconnected at its end."""

    def __init__(self, loop: PyLoop, server_url: str):
        self.loop = loop
        self.server_url = server_url
        self.clients = []

    def run(self, coro, timeout: float = 60.0):
        return self.loop.run(coro, timeout)

    def connect(self, **config):
        config = {"server_url": self.server_url, "method_timeout": 30, **config}
        async def connect():
            return await connect_to_server(config)

        client = self.run(connect())
        self.clients.append(client)
        return client

    def close_all(self):
        for client in self.clients:
            try:
                self.run(client.disconnect(), timeout=10)
            except Exception:
                pass


@pytest.fixture
def py(pyloop, engine):
    clients = PyClients(pyloop, engine.url)
    try:
        yield clients
    finally:
        clients.close_all()


@pytest.fixture
def js(page):
    """`js(body, *args, timeout=60)` runs async JavaScript in the test page (see run_js)."""
    return lambda body, *args, timeout=60.0: run_js(page, body, *args, timeout=timeout)
