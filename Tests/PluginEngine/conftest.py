"""Fixtures for the plugin-engine acceptance suite: a real `imjoy serve` with the native-python plugin engine,
real environments from PyPI (uv), real plugin processes.

  IMJOY_BIN=/path/to/imjoy          the binary (default: <repo>/.build/debug/imjoy)
  IMJOY_TEST_CACHE_DIR=/some/dir    keep uv and its package cache between runs (default: a fresh temp dir)
"""
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PLUGINS = HERE / "plugins"


def binary():
    path = os.environ.get("IMJOY_BIN") or str(REPO / ".build" / "debug" / "imjoy")
    if not os.path.exists(path):
        pytest.fail(f"imjoy binary not found at {path}; run `swift build` or set IMJOY_BIN")
    return path


class Engine:
    """An `imjoy serve` process; its output is collected on a thread so the pipe never fills."""

    def __init__(self, data_dir, cache_dir, *extra):
        self.data_dir = data_dir
        self.proc = subprocess.Popen(
            [binary(), "serve", "--port", "0", "--data-dir", str(data_dir), "--cache-dir", str(cache_dir), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines = []
        self.url = None
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))
                match = re.search(r"listening on (https?://127\.0\.0\.1:\d+)", line)
                if match:
                    self.url = match.group(1)
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(30) or self.url is None:
            self.kill()
            pytest.fail("imjoy serve did not start:\n" + "\n".join(self.lines[-30:]))

    @property
    def admin_token(self):
        """The owner's token (created by the engine on first start)."""
        return (Path(self.data_dir) / "admin-token").read_text().strip()

    def log_matching(self, pattern):
        return [line for line in self.lines if re.search(pattern, line)]

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("imjoy serve did not stop within %ss of SIGTERM" % timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    configured = os.environ.get("IMJOY_TEST_CACHE_DIR")
    if configured:
        Path(configured).mkdir(parents=True, exist_ok=True)
        return Path(configured)
    return tmp_path_factory.mktemp("imjoy-cache")


@pytest.fixture(scope="session")
def engine(tmp_path_factory, cache_dir):
    server = Engine(tmp_path_factory.mktemp("imjoy-data"), cache_dir, "--setup-timeout", "60")
    yield server
    server.stop()


@pytest.fixture
def fresh_engine(tmp_path, cache_dir):
    """An engine of its own (for restart and kill tests); uses the shared cache, its own data directory."""
    servers = []

    def start(data_dir=None, *extra):
        server = Engine(data_dir or tmp_path / f"data-{len(servers)}", cache_dir, *extra)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.kill()


def plugin_source(name):
    return (PLUGINS / f"{name}.imjoy.html").read_text()


def source(name, script, requirements=(), flags=()):
    """A native-python plugin file made on the fly."""
    import json

    config = {"name": name, "type": "native-python", "version": "0.1.0", "requirements": list(requirements),
              "flags": list(flags)}
    return f'<config lang="json">\n{json.dumps(config)}\n</config>\n<script lang="python">\n{script}\n</script>\n'


def pid_alive(pid):
    """Whether `pid` is a live (not zombie) process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_until(condition, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class ManifestServer:
    """A plugin repository on 127.0.0.1: serves a folder; `delay` seconds before each answer (for kill tests)."""

    def __init__(self, folder, delay=0.0):
        import functools
        import http.server

        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                time.sleep(server.delay)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.delay = delay
        self.folder = Path(folder)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add(self, name, version="0.1.0", dependencies=(), script="from imjoy import api\napi.export({})"):
        """Writes a plugin file and lists it in manifest.imjoy.json; returns its URL."""
        import json

        config = {"name": name, "type": "native-python", "version": version, "dependencies": list(dependencies)}
        file = name.replace(" ", "_") + ".imjoy.html"
        (self.folder / file).write_text(
            f'<config lang="json">\n{json.dumps(config)}\n</config>\n<script lang="python">\n{script}\n</script>\n')
        manifest_path = self.folder / "manifest.imjoy.json"
        manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {
            "name": "Test repository", "version": "0.2.0", "uri_root": "", "plugins": []}
        manifest["plugins"] = [p for p in manifest["plugins"] if p["name"] != name]
        manifest["plugins"].append({**config, "uri": file})
        manifest_path.write_text(json.dumps(manifest))
        return f"{self.url}/{file}"

    @property
    def manifest_url(self):
        return f"{self.url}/manifest.imjoy.json"

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def repository(tmp_path):
    folder = tmp_path / "repository"
    folder.mkdir()
    server = ManifestServer(folder)
    yield server
    server.close()


def run(coroutine, timeout=180):
    """Runs a test body with a bound on its time."""
    import asyncio

    return asyncio.run(asyncio.wait_for(coroutine, timeout))


async def owner(engine, workspace=None):
    """A hypha-rpc client holding the engine's admin token (in `default` unless `workspace` is given)."""
    from hypha_rpc import connect_to_server

    config = {"server_url": engine.url, "token": engine.admin_token}
    if workspace:
        config["workspace"] = workspace
    return await connect_to_server(config)


async def owner_with_plugins(engine, workspace=None):
    """The owner's client and its `public/plugin-engine` service."""
    client = await owner(engine, workspace)
    return client, await client.get_service("public/plugin-engine")
