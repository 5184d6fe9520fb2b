"""Helpers for the browser suite: the engine process, the static web server, a background asyncio
loop for hypha-rpc clients, and a runner for async JavaScript in the page.

Every wait is bounded; everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WEB_ROOT = REPO / "web"
LISTEN_RE = re.compile(r"imjoy engine listening on (https?://127\.0\.0\.1:\d+)")

BLANK_PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>imjoy web tests</title><link rel="icon" href="data:,"></head>
<body><p>blank page for the browser tests</p></body></html>
"""


# ---------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------


class LineReader:
    """Drains a text stream on a daemon thread, keeps the last lines, waits for a regex."""

    def __init__(self, stream, keep: int = 2000):
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)
        self._cond = threading.Condition()
        self._eof = False
        threading.Thread(target=self._run, args=(stream,), daemon=True).start()

    def _run(self, stream):
        try:
            for line in stream:
                with self._cond:
                    self.lines.append(line.rstrip("\n"))
                    self._cond.notify_all()
        except (ValueError, OSError):
            pass
        finally:
            with self._cond:
                self._eof = True
                self._cond.notify_all()

    def wait_for(self, rx: re.Pattern, timeout: float):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    m = rx.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    return None
                self._cond.wait(left)

    def tail(self, n: int = 60) -> str:
        with self._cond:
            return "\n".join(list(self.lines)[-n:])


def imjoy_binary(wait: float = 120.0) -> str:
    """The engine binary (IMJOY_BIN or .build/debug/imjoy); waits for it while it is being rebuilt."""
    path = Path(os.environ.get("IMJOY_BIN") or REPO / ".build" / "debug" / "imjoy")
    deadline = time.monotonic() + wait
    while not (path.is_file() and os.access(path, os.X_OK)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no engine binary at {path} (build it with `swift build` or set IMJOY_BIN)")
        time.sleep(2)
    return str(path)


class Engine:
    """`imjoy serve --port 0 --data-dir DIR` on 127.0.0.1, with `extra` options (default: no native plugins)."""

    def __init__(self, data_dir: Path, timeout: float = 60.0, port: int = 0, extra=("--no-plugins",)):
        self.data_dir = data_dir
        binary = imjoy_binary()
        self.proc = subprocess.Popen(
            [binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir), *extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace", bufsize=1, start_new_session=True,
        )
        self.reader = LineReader(self.proc.stdout)
        m = self.reader.wait_for(LISTEN_RE, timeout)
        if m is None:
            self.stop()
            raise RuntimeError(f"{binary} serve did not print its URL within {timeout} s:\n{self.reader.tail()}")
        self.url = m.group(1)
        self.admin_token = (data_dir / "admin-token").read_text().strip()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


# ---------------------------------------------------------------------------------------------
# Static files: web/ plus a blank page
# ---------------------------------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/blank.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(BLANK_PAGE)))
            self.end_headers()
            self.wfile.write(BLANK_PAGE)
            return
        if path == "/favicon.ico":
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *args):  # keep the test output clean
        pass


class StaticServer:
    """Serves WEB_ROOT on 127.0.0.1 (a port of its own, so pages are cross-origin to the engine)."""

    def __init__(self, root: Path = WEB_ROOT):
        handler = functools.partial(_Handler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


# ---------------------------------------------------------------------------------------------
# hypha-rpc clients on a background event loop (selenium calls block the test thread)
# ---------------------------------------------------------------------------------------------


class PyLoop:
    """An asyncio loop on a daemon thread; `run(coro)` waits (bounded) for its result."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        # hypha-rpc leaves futures and tasks behind when clients disconnect; keep them out of the
        # test output (failures surface through the awaited results instead).
        self.background_errors: list[dict] = []
        self.loop.set_exception_handler(lambda loop, context: self.background_errors.append(context))
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 60.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self):
        async def cancel_all():
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self.run(cancel_all(), timeout=10)
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()


# ---------------------------------------------------------------------------------------------
# JavaScript in the page
# ---------------------------------------------------------------------------------------------

_JS_WRAPPER = """
const __done = arguments[arguments.length - 1];
const args = Array.prototype.slice.call(arguments, 0, arguments.length - 1);
(async () => {
%s
})().then(
  (value) => __done({ok: true, value: value === undefined ? null : value}),
  (error) => __done({ok: false, name: error && error.name, message: String(error && error.message !== undefined ? error.message : error),
                     stack: String(error && error.stack)}));
"""


class JSError(AssertionError):
    def __init__(self, result: dict):
        super().__init__(f"{result.get('name')}: {result.get('message')}\n{result.get('stack')}")
        self.name = result.get("name")
        self.message = result.get("message")


def run_js(driver, body: str, *args, timeout: float = 60.0):
    """Run `body` (the inside of an async function; `args` holds the arguments) in the page and
    return its value; a rejection raises JSError."""
    driver.set_script_timeout(timeout)
    result = driver.execute_async_script(_JS_WRAPPER % body, *args)
    if not isinstance(result, dict) or "ok" not in result:
        raise AssertionError(f"unexpected script result: {json.dumps(result)[:500]}")
    if not result["ok"]:
        raise JSError(result)
    return result["value"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_paths() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        raise RuntimeError("chromium and chromedriver are needed: apt-get install -y chromium chromium-driver")
    return chromium, driver
