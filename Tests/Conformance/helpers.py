"""Shared helpers for the conformance suite (imported by conftest.py and the tests).

Everything here is bounded in time: every wait has a timeout, every loop a deadline.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import functools
import inspect
import io
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import msgpack
from hypha_rpc import connect_to_server
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
LISTEN_RE = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")
CONNECT_TIMEOUT = 30.0
DISCONNECT_TIMEOUT = 5.0


def uid(prefix: str) -> str:
    """A unique, readable client/service id (no '/', ':' or '.')."""
    return f"{prefix}-{secrets.token_hex(4)}"


# ---------------------------------------------------------------------------------------------
# Processes (our server, subprocess providers): line reader with bounded waits
# ---------------------------------------------------------------------------------------------


class LineReader:
    """Reads a text stream on a daemon thread; keeps the last lines; lets callers wait for a
    regex with a deadline. Keeps draining so the child never blocks on a full pipe."""

    def __init__(self, stream, keep: int = 4000):
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)
        self._cond = threading.Condition()
        self._eof = False
        self._thread = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._thread.start()

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

    def wait_for(self, pattern: re.Pattern | str, timeout: float, start: int = 0):
        """Return the first match of `pattern` in lines[start:], waiting up to `timeout` s.
        Returns None on timeout or EOF."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in list(self.lines)[start:]:
                    m = rx.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    return None
                self._cond.wait(min(left, 0.2))

    async def await_for(self, pattern, timeout: float, start: int = 0):
        """Async variant (polls, so it never blocks the event loop)."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            m = self.wait_for(rx, 0, start)
            if m or time.monotonic() > deadline or self._eof:
                return m
            await asyncio.sleep(0.02)

    def tail(self, n: int = 60) -> str:
        return "\n".join(list(self.lines)[-n:])


class ServerHandle:
    """Either our own server process (proc set) or an external server (proc None)."""

    def __init__(self, url: str, proc: subprocess.Popen | None = None, reader: LineReader | None = None,
                 data_dir: str | None = None):
        self.url = url.rstrip("/")
        self.proc = proc
        self.reader = reader
        self.data_dir = data_dir

    @property
    def external(self) -> bool:
        return self.proc is None

    def assert_alive(self):
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(
                f"server process exited unexpectedly with code {self.proc.returncode}; last output:\n"
                + (self.reader.tail() if self.reader else ""))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int | None:
        """Send `sig`, wait up to `timeout` s; returns the exit code, or None if it had to be
        SIGKILLed (then waits up to 5 s more)."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
            return None


def _kill_if_running(proc: subprocess.Popen):
    if proc.poll() is None:
        proc.kill()


def imjoy_bin() -> str | None:
    path = os.environ.get("IMJOY_BIN")
    if path:
        return path
    default = REPO / ".build" / "debug" / "imjoy"
    return str(default) if default.exists() else None


def start_imjoy_server(binary: str, data_dir: str, timeout: float = 30.0) -> ServerHandle:
    """Start `<binary> serve --host 127.0.0.1 --port 0 --data-dir <dir>` and wait (bounded) for
    the line `listening on http://127.0.0.1:<port>` on its stdout (stderr is merged)."""
    proc = subprocess.Popen(
        [binary, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", data_dir],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, errors="replace", bufsize=1, start_new_session=True,
    )
    atexit.register(_kill_if_running, proc)  # never leave a server behind (e.g. Ctrl-C)
    reader = LineReader(proc.stdout)
    m = reader.wait_for(LISTEN_RE, timeout)
    if m is None:
        proc.kill()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        raise RuntimeError(
            f"{binary} serve did not print 'listening on http://127.0.0.1:<port>' within {timeout}s "
            f"(exit code {proc.poll()}); output:\n{reader.tail()}")
    return ServerHandle(m.group(1), proc, reader, data_dir)


class ProviderProcess:
    """A hypha-rpc provider in a separate Python process (provider_proc.py), so that it can be
    killed with SIGKILL: the most honest 'peer disconnects'."""

    def __init__(self, server_url: str, client_id: str, workspace: str | None = None,
                 token: str | None = None):
        args = [sys.executable, str(HERE / "provider_proc.py"), server_url, client_id]
        if workspace:
            args += ["--workspace", workspace]
        if token:
            args += ["--token", token]
        self.client_id = client_id
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, errors="replace",
                                     bufsize=1, start_new_session=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        atexit.register(_kill_if_running, self.proc)
        self.reader = LineReader(self.proc.stdout)
        self.workspace = None
        self.token = None

    async def ready(self, timeout: float = 30.0):
        m = await self.reader.await_for(r"^READY (\S+) (\S+) (\S+)$", timeout)
        if m is None:
            self.kill()
            raise AssertionError("provider subprocess did not become ready; output:\n" + self.reader.tail())
        self.workspace, cid, self.token = m.group(1), m.group(2), m.group(3)
        assert cid == self.client_id
        return self

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass


# ---------------------------------------------------------------------------------------------
# Peers: hypha-rpc clients and raw websocket connections, all closed at the end of a scenario
# ---------------------------------------------------------------------------------------------


def ws_url(server_url: str) -> str:
    if server_url.startswith(("ws://", "wss://")):
        return server_url
    return re.sub(r"^http", "ws", server_url.rstrip("/")) + "/ws"


def decode_frame(frame: bytes) -> dict:
    """Decode a binary frame the way hypha-rpc does: main map, merged with the optional extra."""
    unpacker = msgpack.Unpacker(io.BytesIO(frame), raw=False)
    main = unpacker.unpack()
    try:
        extra = unpacker.unpack()
        if isinstance(extra, dict):
            main = {**main, **extra}
    except msgpack.OutOfData:
        pass
    return main


class RawConn:
    """A hand-driven websocket connection that did the hypha handshake."""

    def __init__(self, ws, info: dict, client_id: str):
        self.ws = ws
        self.info = info
        self.client_id = client_id

    @property
    def workspace(self) -> str:
        return self.info["workspace"]

    @property
    def address(self) -> str:
        return f"{self.workspace}/{self.client_id}"

    @property
    def manager(self) -> str:
        return "*/" + self.info["manager_id"]

    async def send(self, data):
        await self.ws.send(data)

    async def recv(self, timeout: float):
        """Next frame, or None on timeout. Raises ConnectionClosed when closed."""
        try:
            return await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            return None

    async def outcome(self, timeout: float, want=None) -> tuple:
        """Collect frames for up to `timeout` s until `want(kind, value)` is true.
        Returns ("closed", code, reason) | ("text", obj) | ("binary", decoded) | ("timeout",)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return ("timeout",)
            try:
                frame = await self.recv(left)
            except ConnectionClosed:
                return ("closed", self.ws.close_code, self.ws.close_reason)
            if frame is None:
                return ("timeout",)
            if isinstance(frame, str):
                try:
                    item = ("text", json.loads(frame))
                except ValueError:
                    item = ("text", frame)
            else:
                try:
                    item = ("binary", decode_frame(frame))
                except Exception:  # noqa: BLE001
                    item = ("binary", frame)
            if want is None or want(*item):
                return item

    async def ping_pong(self, timeout: float = 5.0) -> bool:
        """Send a text {"type":"ping"}; True iff a {"type":"pong"} text frame comes back."""
        await self.ws.send(json.dumps({"type": "ping"}))
        res = await self.outcome(timeout, lambda k, v: k == "text" and isinstance(v, dict)
                                 and v.get("type") == "pong")
        return res[0] == "text"

    async def is_closed_or_answers_ping(self, timeout: float = 5.0) -> str:
        """'closed' if the server closed this connection, 'alive' if ping→pong works."""
        try:
            if await self.ping_pong(timeout):
                return "alive"
        except ConnectionClosed:
            return "closed"
        if self.ws.close_code is not None:
            return "closed"
        return "neither"

    async def wait_session_reply(self, session: str, timeout: float):
        """Wait for `<session>.resolve` / `<session>.reject` (skipping heartbeats)."""
        def want(kind, v):
            return (kind == "binary" and isinstance(v, dict)
                    and v.get("method") in (f"{session}.resolve", f"{session}.reject"))
        res = await self.outcome(timeout, want)
        return res[1] if res[0] == "binary" else None


class Peers:
    """Creates hypha-rpc clients and raw connections for one scenario and closes them all."""

    def __init__(self, server_url: str):
        self.url = server_url
        self.clients = []
        self.raws: list[RawConn] = []

    async def connect(self, **config):
        cfg = {"server_url": self.url, **config}
        client = await asyncio.wait_for(connect_to_server(cfg), CONNECT_TIMEOUT)
        self.clients.append(client)
        return client

    async def raw(self, client_id: str | None = None, workspace=None, token=None,
                  reconnection_token=None, expect_error: bool = False, **ws_kwargs):
        """Open a websocket, send the auth frame, read the first text frame.
        Returns RawConn (connection_info) or, with expect_error, the first text frame as dict."""
        client_id = client_id or uid("raw")
        ws = await asyncio.wait_for(
            ws_connect(ws_url(self.url), max_size=None, open_timeout=10, close_timeout=3,
                       ping_interval=None, **ws_kwargs), 10)
        conn = RawConn(ws, {}, client_id)
        self.raws.append(conn)
        await ws.send(json.dumps({"client_id": client_id, "workspace": workspace, "token": token,
                                  "reconnection_token": reconnection_token}))
        first = await conn.outcome(10, lambda k, v: k in ("text", "closed"))
        if first[0] != "text":
            raise AssertionError(f"no text frame after the auth frame: {first}")
        if expect_error:
            return first[1]
        info = first[1]
        assert isinstance(info, dict) and info.get("type") == "connection_info", info
        conn.info = info
        return conn

    async def close(self):
        async def _disc(c):
            try:
                await asyncio.wait_for(c.disconnect(), DISCONNECT_TIMEOUT)
            except BaseException:  # noqa: BLE001 - best effort cleanup
                pass

        async def _close(r):
            try:
                await asyncio.wait_for(r.ws.close(), 3)
            except BaseException:  # noqa: BLE001
                pass

        await asyncio.gather(*[_disc(c) for c in self.clients], *[_close(r) for r in self.raws])
        self.clients.clear()
        self.raws.clear()


def scenario(timeout: float = 30.0):
    """Turn `async def test_x(p, ...)` into a sync pytest test that takes the `server` fixture.

    `p` is a Peers bound to the server URL; every client it created is disconnected afterwards,
    and (for our own server process) the test also asserts that the server is still alive."""

    def deco(fn):
        params = list(inspect.signature(fn).parameters.values())[1:]

        @functools.wraps(fn)
        def wrapper(server, **kwargs):
            async def main():
                peers = Peers(server.url)
                try:
                    await asyncio.wait_for(fn(peers, **kwargs), timeout)
                finally:
                    await peers.close()

            try:
                asyncio.run(main())
            finally:
                server.assert_alive()

        wrapper.__signature__ = inspect.Signature(
            [inspect.Parameter("server", inspect.Parameter.POSITIONAL_OR_KEYWORD)] + params)
        return wrapper

    return deco


async def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll an (async or sync) predicate until truthy; raise AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
        except Exception as exc:  # noqa: BLE001
            last_exc = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}"
                                 + (f" (last error: {last_exc!r})" if last_exc else ""))
        await asyncio.sleep(interval)


async def service_ids(client, query=None) -> list[str]:
    items = await client.list_services(query) if query is not None else await client.list_services()
    return [s["id"] for s in items]
