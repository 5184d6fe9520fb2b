"""Remote engines (issue 9): an `imjoy worker` with its own data directory runs native-python plugins for an
engine; worker tokens; TLS.

This machine plays both hosts. The worker reaches the engine through a TCP proxy on loopback (its own port), so
a test can cut the worker's whole "network" (its control connection and its plugins' connections) and bring it
back, and point it at a restarted engine.
"""
import asyncio
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypha_rpc import connect_to_server

from conftest import binary, owner_with_plugins, pid_alive, wait_until

REMOTE = '''<config lang="json">
{"name": "Remote Doubler", "type": "native-python", "version": "0.1.0", "requirements": ["numpy"]}
</config>
<script lang="python">
import os, sys
import numpy as np
from imjoy import api

class ImJoyPlugin:
    def double(self, array):
        return np.asarray(array) * 2

    def where(self):
        return {"pid": os.getpid(), "prefix": sys.prefix, "work_dir": os.getcwd()}

    def shout(self, text):
        print(text, flush=True)

api.export(ImJoyPlugin())
</script>
'''


def run(coroutine, timeout=300):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


async def eventually(condition, timeout=10):
    """Polls `condition` without blocking the event loop (events keep arriving meanwhile)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


class Proxy:
    """Forwards TCP connections from its own loopback port to `target_port`. `cut()` drops every connection and
    refuses new ones (the network is gone) until `restore()`."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.down = False
        self.pairs = []
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.pairs.append((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        self.down = True
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass

    def restore(self, target_port=None):
        if target_port:
            self.target_port = target_port
        self.down = False

    def close(self):
        self.cut()
        self.listener.close()


class Worker:
    """An `imjoy worker` process; its output is collected on a thread."""

    def __init__(self, server, token, name, data_dir, cache_dir, *extra, env=None):
        self.data_dir = Path(data_dir)
        self.proc = subprocess.Popen(
            [binary(), "worker", "--server", server, "--token", token, "--name", name, "--data-dir", str(data_dir),
             "--cache-dir", str(cache_dir), "--setup-timeout", "120", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, env=env)
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def connections(self):
        return [line for line in self.lines if re.search(r"imjoy worker \S+ connected to", line)]

    def wait_connected(self, count=1, timeout=30):
        if not wait_until(lambda: len(self.connections()) >= count or self.proc.poll() is not None, timeout):
            raise AssertionError("the worker did not connect:\n" + "\n".join(self.lines[-30:]))
        assert self.proc.poll() is None, "the worker exited:\n" + "\n".join(self.lines[-30:])

    def stop(self):
        """SIGTERM: the worker stops its plugins and exits 0 within seconds."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                raise AssertionError("the worker ignored SIGTERM for 20 s:\n" + "\n".join(self.lines[-20:]))


def worker_token(engine, workspace="default"):
    out = subprocess.run(
        [binary(), "token", "--worker", "--workspace", workspace, "--data-dir", str(engine.data_dir), "--label", "test"],
        capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def ancestors(pid):
    """The parent chain of `pid`."""
    chain = []
    while pid > 1:
        with open(f"/proc/{pid}/stat") as f:
            pid = int(f.read().rsplit(")", 1)[1].split()[1])
        chain.append(pid)
    return chain


@pytest.fixture
def remote(fresh_engine, tmp_path, cache_dir):
    """An engine, a proxy in front of it, and a factory of workers that reach it through the proxy."""
    engine = fresh_engine()
    proxy = Proxy(int(engine.url.rsplit(":", 1)[1]))
    workers = []

    def start_worker(name="gpu-box", token=None, *extra, env=None):
        worker = Worker(proxy.url, token or worker_token(engine), name, tmp_path / f"worker-{name}", cache_dir, *extra,
                        env=env)
        workers.append(worker)
        return worker

    yield engine, proxy, start_worker
    for worker in workers:
        worker.stop()
    proxy.close()


def test_plugin_started_on_a_worker_runs_there_and_answers_through_the_engine(remote):
    engine, proxy, start_worker = remote
    worker = start_worker("gpu-box")
    worker.wait_connected()

    async def body():
        client, plugins = await owner_with_plugins(engine)
        hosts = {host["name"]: host for host in await plugins.hosts()}
        assert hosts["local"]["local"] is True
        assert hosts["gpu-box"]["online"] is True and hosts["gpu-box"]["local"] is False
        info = hosts["gpu-box"]["info"]
        assert info["cpu_count"] >= 1 and info["memory_bytes"] > 0 and re.match(r"^3\.\d+", info["python"])
        assert info["gpus"] == [] or all("name" in gpu for gpu in info["gpus"])

        await plugins.install(REMOTE)
        api = await plugins.start("Remote Doubler", host="gpu-box")
        where = await api.where()
        # In the worker's process tree and its environment folder, not the engine's.
        assert worker.proc.pid in ancestors(where["pid"])
        assert engine.proc.pid not in ancestors(where["pid"])
        assert Path(where["prefix"]).resolve().is_relative_to((worker.data_dir / "envs").resolve())
        assert Path(where["work_dir"]).resolve().is_relative_to(worker.data_dir.resolve())

        # Called from a hypha-rpc client through the engine; numpy arrays intact.
        image = np.arange(12, dtype="uint16").reshape(3, 4)
        doubled = await api.double(image)
        assert doubled.dtype == np.uint16 and doubled.shape == (3, 4) and (doubled == image * 2).all()
        big = np.random.default_rng(1).random((512, 512), dtype="float32")
        assert np.array_equal(await api.double(big), big * 2)

        status = await plugins.status("Remote Doubler")
        assert status["host"] == "gpu-box" and status["state"] == "running" and status["pid"] == where["pid"]
        listed = {row["name"]: row for row in await plugins.list()}
        assert listed["Remote Doubler"]["host"] == "gpu-box"
        assert any("ready in" in row["text"] for row in await plugins.logs("Remote Doubler"))

        # The worker's whole network goes away: calls fail at once, saying the host is offline.
        proxy.cut()
        for _ in range(100):
            if not {h["name"]: h for h in await plugins.hosts()}["gpu-box"]["online"]:
                break
            await asyncio.sleep(0.1)
        assert not {h["name"]: h for h in await plugins.hosts()}["gpu-box"]["online"]
        started = time.monotonic()
        with pytest.raises(Exception, match="Host offline: plugin 'Remote Doubler' runs on host 'gpu-box'"):
            await api.double(image)
        assert time.monotonic() - started < 3
        with pytest.raises(Exception, match="Host offline"):
            await plugins.start("Remote Doubler", host="gpu-box")
        assert pid_alive(where["pid"]), "the plugin keeps running on the worker while the network is down"

        # The network is back: the worker and the plugin reconnect by themselves within seconds.
        proxy.restore()
        deadline = time.monotonic() + 30
        while True:
            try:
                assert (await api.double(image) == image * 2).all()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.25)
        assert await api.where() == where, "the same process answers again"
        assert len(worker.connections()) >= 2

        await plugins.stop("Remote Doubler")
        assert wait_until(lambda: not pid_alive(where["pid"]), 15)
        await client.disconnect()

    run(body())
    worker.stop()
    assert worker.proc.returncode == 0, worker.lines[-10:]


def test_state_changes_and_log_lines_of_a_plugin_on_a_worker_stream_live_to_the_workspace(remote):
    engine, proxy, start_worker = remote
    worker = start_worker("live-box")
    worker.wait_connected()

    async def body():
        client, plugins = await owner_with_plugins(engine)
        statuses, lines = [], []
        client.on("plugin_status", lambda message: statuses.append(message["data"]))
        client.on("plugin_log", lambda message: lines.append(message["data"]))
        await client.subscribe(["plugin_status", "plugin_log"])
        await plugins.install(REMOTE.replace('"Remote Doubler"', '"Live Doubler"'))
        api = await plugins.start("Live Doubler", host="live-box")
        client_id = (await plugins.status("Live Doubler"))["client_id"]
        assert await eventually(lambda: any(s["state"] == "running" for s in statuses)), statuses
        mine = [s for s in statuses if s["name"] == "Live Doubler"]
        assert mine and all(s["host"] == "live-box" and s["client_id"] == client_id for s in mine), mine
        assert mine[0]["state"] == "starting" and mine[-1]["state"] == "running", mine
        assert any(line["source"] == "engine" and "ready in" in line["text"] for line in lines), lines[-5:]

        # What the plugin prints on the worker arrives as it happens, not when someone asks for the log.
        await api.shout("hello from the worker")
        found = lambda: [l for l in lines if l["text"] == "hello from the worker"]
        assert await eventually(found), lines[-5:]
        assert found() and found()[0]["source"] == "stdout" and found()[0]["host"] == "live-box", lines[-5:]
        assert found()[0]["name"] == "Live Doubler"

        await plugins.stop("Live Doubler")
        assert await eventually(lambda: statuses[-1]["state"] == "stopped"), statuses[-3:]
        assert [s["state"] for s in statuses if s["name"] == "Live Doubler"][-1] == "stopped", statuses[-3:]
        await client.disconnect()

    run(body())


def test_only_a_plugin_host_reports_plugin_events_and_only_about_plugins_placed_on_it(remote):
    engine, proxy, start_worker = remote
    token = worker_token(engine)

    async def body():
        owner, plugins = await owner_with_plugins(engine)
        heard = []
        owner.on("plugin_status", lambda message: heard.append(message["data"]))
        await owner.subscribe(["plugin_status"])
        event = {"kind": "status", "client_id": "someone-else", "state": "crashed", "error": "forged"}
        with pytest.raises(Exception, match="report_plugin_events is for plugin hosts"):
            await owner.report_plugin_events([event])
        host = await connect_to_server({"server_url": engine.url, "token": token, "client_id": "forger"})
        with pytest.raises(Exception, match="report_plugin_events is for plugin hosts"):
            await host.report_plugin_events([event])
        await host.register_service({"id": "plugin-host", "name": "forger", "type": "plugin-host",
                                     "config": {"visibility": "protected"}, "info": lambda: {}})
        # A host speaks only for plugins the engine started on it: the event about another client is dropped.
        assert (await host.report_plugin_events([event]))["accepted"] == 0
        with pytest.raises(Exception, match="takes a list of events"):
            await host.report_plugin_events("not a list")
        await asyncio.sleep(0.3)
        assert not [s for s in heard if s.get("error") == "forged"]
        await host.disconnect()
        await owner.disconnect()

    run(body())


def test_a_worker_serves_again_after_the_engine_restarts(remote, fresh_engine):
    engine, proxy, start_worker = remote
    worker = start_worker("restart-box")
    worker.wait_connected()
    detached = REMOTE.replace('"Remote Doubler"', '"Detached Doubler"').replace(
        '"version"', '"flags": ["allow-detach"], "version"')

    async def start():
        client, plugins = await owner_with_plugins(engine)
        await plugins.install(detached)
        api = await plugins.start("Detached Doubler", host="restart-box")
        where = await api.where()
        client_id = (await plugins.status("Detached Doubler"))["client_id"]
        await client.disconnect()
        return where, client_id

    where, client_id = run(start())
    engine.stop()
    proxy.cut()
    again = fresh_engine(engine.data_dir)
    proxy.restore(int(again.url.rsplit(":", 1)[1]))
    worker.wait_connected(2)

    async def after():
        client, plugins = await owner_with_plugins(again)
        deadline = time.monotonic() + 30
        while True:
            try:
                api = await client.get_service(f"default/{client_id}:Detached_Doubler")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.25)
        assert (await api.double(np.ones(3, dtype="int32")) == 2).all()
        assert (await api.where())["pid"] == where["pid"], "the plugin kept running through the engine's restart"
        # The restarted engine adopted the worker's plugins: it reports and stops them.
        assert (await plugins.status("Detached Doubler"))["host"] == "restart-box"
        await plugins.stop("Detached Doubler")
        assert wait_until(lambda: not pid_alive(where["pid"]), 15)
        await client.disconnect()

    run(after())


def test_worker_token_registers_a_host_and_nothing_more_and_revoking_it_disconnects_the_worker(remote):
    engine, proxy, start_worker = remote
    token = worker_token(engine)

    async def body():
        client = await connect_to_server({"server_url": engine.url, "token": token, "client_id": "sneaky"})
        assert client.config.workspace == "default"
        with pytest.raises(Exception, match="worker token may only register plugin hosts"):
            await client.list_services()
        with pytest.raises(Exception, match="worker token"):
            await client.get_service("public/plugin-engine")
        with pytest.raises(Exception, match="only register services of type plugin-host"):
            await client.register_service({"id": "calc", "add": lambda a, b: a + b})
        await client.disconnect()
        with pytest.raises(Exception, match="the token is for workspace default, not public"):
            await connect_to_server({"server_url": engine.url, "token": token, "workspace": "public"})

    run(body())

    worker = start_worker("revoked-box", token)
    worker.wait_connected()
    listed = subprocess.run(
        [binary(), "token", "--list", "--workspace", "default", "--data-dir", str(engine.data_dir)],
        capture_output=True, text=True, timeout=30).stdout
    token_id = next(line.split()[0] for line in listed.splitlines() if " plugin-host " in line)
    out = subprocess.run(
        [binary(), "token", "--revoke", token_id, "--data-dir", str(engine.data_dir)],
        capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "disconnected its holders: 1 connection(s)" in out.stdout, out.stdout
    assert wait_until(lambda: worker.proc.poll() is not None, 20), "the worker keeps running with a revoked token"
    assert worker.proc.returncode == 1
    assert any("the engine refused this worker" in line and "revoked" in line for line in worker.lines), worker.lines[-10:]


def test_tls_serves_wss_to_a_hypha_rpc_client_that_trusts_its_certificate(fresh_engine, tmp_path, cache_dir):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60)
    engine = fresh_engine(None, "--tls-cert", str(cert), "--tls-key", str(key))
    assert engine.url.startswith("https://127.0.0.1:")

    async def body():
        trusted = ssl.create_default_context(cafile=str(cert))
        client = await connect_to_server({"server_url": engine.url, "token": engine.admin_token, "ssl": trusted})
        assert client.config.workspace == "default"
        assert await client.echo("over wss") == "over wss"
        plugins = await client.get_service("public/plugin-engine")
        # A local plugin connects back over wss:// too (the engine hands plugins a bundle with its certificate).
        api = await plugins.start(REMOTE.replace("Remote Doubler", "TLS Doubler"))
        assert (await api.double(np.arange(4)) == np.arange(4) * 2).all()
        await plugins.stop("TLS Doubler")
        await client.disconnect()
        # Without the certificate the client refuses the engine (it is self-signed).
        with pytest.raises(Exception):
            await connect_to_server({"server_url": engine.url, "token": engine.admin_token})

    run(body())

    # A worker reaches the engine over wss:// when it trusts the certificate (--ca-cert), and so do its plugins.
    worker = Worker(engine.url, worker_token(engine), "tls-box", tmp_path / "tls-worker", cache_dir, "--ca-cert", str(cert))
    try:
        worker.wait_connected()

        async def remote_plugin():
            client = await connect_to_server({"server_url": engine.url, "token": engine.admin_token,
                                              "ssl": ssl.create_default_context(cafile=str(cert))})
            plugins = await client.get_service("public/plugin-engine")
            await plugins.install(REMOTE.replace("Remote Doubler", "TLS Remote"))
            api = await plugins.start("TLS Remote", host="tls-box")
            assert (await api.double(np.arange(3)) == np.arange(3) * 2).all()
            assert worker.proc.pid in ancestors((await api.where())["pid"])
            await client.disconnect()

        run(remote_plugin())
    finally:
        worker.stop()


def test_serve_refuses_a_key_without_its_certificate_and_an_unreadable_certificate(tmp_path):
    out = subprocess.run(
        [binary(), "serve", "--port", "0", "--data-dir", str(tmp_path / "d"), "--tls-key", str(tmp_path / "k.pem")],
        capture_output=True, text=True, timeout=30)
    assert out.returncode == 64 and "--tls-key needs --tls-cert" in out.stderr
    (tmp_path / "bad.pem").write_text("not a certificate")
    out = subprocess.run(
        [binary(), "serve", "--port", "0", "--data-dir", str(tmp_path / "d"), "--tls-cert", str(tmp_path / "bad.pem"),
         "--tls-key", str(tmp_path / "bad.pem")],
        capture_output=True, text=True, timeout=30)
    assert out.returncode == 64, out.stderr
    assert "--tls-cert" in out.stderr and "bad.pem" in out.stderr and "PEM" in out.stderr


GPU_PLUGIN = '''<config lang="json">
{"name": "GPU Job", "type": "native-python", "version": "0.1.0", "tags": ["GPU"], "requirements": []}
</config>
<script lang="python">
import os, sys
from imjoy import api

class ImJoyPlugin:
    def run(self, ctx):
        # A file in the work folder of wherever it runs: `imjoy run --on` is checked by where it appears.
        with open(os.path.join(os.environ["WORK_DIR"], "gpu-job-ran"), "w") as f:
            f.write(sys.prefix)
        return {"prefix": sys.prefix}

api.export(ImJoyPlugin())
</script>
'''


def test_a_gpu_tagged_plugin_goes_to_a_worker_with_a_gpu_and_imjoy_run_on_names_a_host(remote, tmp_path):
    engine, proxy, start_worker = remote
    # This machine has no GPU: a stand-in nvidia-smi on the GPU worker's PATH answers as one would.
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    (fake / "nvidia-smi").write_text("#!/bin/sh\necho 'Fake GPU 4000, 8192'\n")
    (fake / "nvidia-smi").chmod(0o755)
    plain = start_worker("cpu-box")
    gpu = start_worker("gpu-box", None, env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"})
    plain.wait_connected()
    gpu.wait_connected()

    async def body():
        client, plugins = await owner_with_plugins(engine)
        for _ in range(50):
            hosts = {host["name"]: host for host in await plugins.hosts()}
            if "gpu-box" in hosts and "cpu-box" in hosts:
                break
            await asyncio.sleep(0.1)
        assert hosts["gpu-box"]["info"]["gpus"] == [{"name": "Fake GPU 4000", "memory_mib": 8192}]
        assert hosts["cpu-box"]["info"]["gpus"] == []
        await plugins.install(GPU_PLUGIN)
        api = await plugins.start("GPU Job")  # no host named: its GPU tag picks the worker with a GPU
        assert (await api.run({"config": {}, "data": {}}))["prefix"].startswith(str(gpu.data_dir))
        assert (await plugins.status("GPU Job"))["host"] == "gpu-box"
        await plugins.stop("GPU Job")
        with pytest.raises(Exception, match=r"No host named 'nowhere' in workspace default \(hosts: local, cpu-box, gpu-box\)"):
            await plugins.start("GPU Job", host="nowhere")
        await client.disconnect()

    run(body())

    # imjoy run --on NAME runs the plugin on that host.
    out = subprocess.run(
        [binary(), "run", "GPU Job", "--on", "cpu-box", "--server", engine.url, "--token", engine.admin_token,
         "--data-dir", str(engine.data_dir)], capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    ran = list(plain.data_dir.rglob("gpu-job-ran"))
    assert ran and ran[0].read_text().startswith(str(plain.data_dir)), out.stdout + out.stderr
    assert not list(Path(engine.data_dir).rglob("gpu-job-ran"))
