"""Fixtures for the conformance suite.

Server selection:
  IMJOY_TEST_SERVER_URL=http://127.0.0.1:PORT  use an already-running server (real Hypha, the
                                               reference mock, ...); imjoy_only tests are skipped.
  IMJOY_BIN=/path/to/imjoy                     start `imjoy serve --host 127.0.0.1 --port 0
                                               --data-dir <tmp>` (default: <repo>/.build/debug/imjoy).
"""

import os
import signal

import pytest

from helpers import ServerHandle, imjoy_bin, start_imjoy_server

EXTERNAL_URL = os.environ.get("IMJOY_TEST_SERVER_URL")
_OUR_SERVERS = []  # handles of the server processes started here, for failure reports


def pytest_report_header(config):
    if EXTERNAL_URL:
        return f"conformance target: external server {EXTERNAL_URL} (imjoy_only tests skipped)"
    return f"conformance target: {imjoy_bin() or '<no IMJOY_BIN and no .build/debug/imjoy>'}"


def pytest_collection_modifyitems(config, items):
    # IMJOY_CONFORMANCE_RUN_IMJOY_ONLY=1 runs them against the external server anyway: a
    # development aid to see that they really fail on Hypha (tests needing our process still skip).
    if not EXTERNAL_URL or os.environ.get("IMJOY_CONFORMANCE_RUN_IMJOY_ONLY") == "1":
        return
    for item in items:
        marker = item.get_closest_marker("imjoy_only")
        if marker is None:
            continue
        why = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "our server only")
        item.add_marker(pytest.mark.skip(reason=f"imjoy_only ({why}); IMJOY_TEST_SERVER_URL is set"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for handle in _OUR_SERVERS:
            if handle.reader is not None:
                report.sections.append((f"imjoy server output, last lines ({handle.url})",
                                        handle.reader.tail(80)))


def _binary_or_fail():
    binary = imjoy_bin()
    if not binary or not os.path.exists(binary):
        pytest.fail("no server to test: set IMJOY_BIN to the imjoy executable (or build "
                    "<repo>/.build/debug/imjoy), or IMJOY_TEST_SERVER_URL to a running server",
                    pytrace=False)
    return binary


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One server for the whole session."""
    if EXTERNAL_URL:
        yield ServerHandle(EXTERNAL_URL)
        return
    handle = start_imjoy_server(_binary_or_fail(), str(tmp_path_factory.mktemp("imjoy-data")))
    _OUR_SERVERS.append(handle)
    try:
        yield handle
        handle.assert_alive()  # it must survive the whole suite (bad input included)
    finally:
        code = handle.stop(signal.SIGTERM, timeout=10)
        assert handle.proc.poll() is not None, "server did not exit even after SIGKILL"
        assert code is not None, "server ignored SIGTERM for 10 s and had to be SIGKILLed"


@pytest.fixture(scope="session")
def server_url(server):
    return server.url


@pytest.fixture
def fresh_server(tmp_path):
    """A server process of its own, for tests that stop or restart the server (imjoy_only)."""
    if EXTERNAL_URL:
        pytest.skip("needs our own server process")
    data_dir = tmp_path / "imjoy-data"
    data_dir.mkdir()
    handle = start_imjoy_server(_binary_or_fail(), str(data_dir))
    _OUR_SERVERS.append(handle)
    try:
        yield handle
    finally:
        _OUR_SERVERS.remove(handle)
        if handle.proc.poll() is None:
            handle.stop(signal.SIGKILL, timeout=5)
