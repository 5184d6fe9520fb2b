"""Fixtures for the runtime tests: a real `imjoy serve` process and plugins run by `python -m imjoy.runner`."""
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "python"


def _binary():
    binary = os.environ.get("IMJOY_BIN") or str(ROOT / ".build" / "debug" / "imjoy")
    if not os.path.exists(binary):
        pytest.fail(f"imjoy binary not found at {binary}; build it (swift build) or set IMJOY_BIN")
    return binary


@pytest.fixture(scope="session")
def server_url(tmp_path_factory):
    data = tmp_path_factory.mktemp("imjoy-data")
    proc = subprocess.Popen(
        [_binary(), "serve", "--port", "0", "--data-dir", str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = None
    deadline = time.time() + 30
    while time.time() < deadline:
        line = proc.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line or "")
        if match:
            url = match.group(1)
            break
    if url is None:
        proc.kill()
        pytest.fail("imjoy serve did not start")
    yield url
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


class RunningPlugin:
    """A plugin process started with the runner; `status` holds its status lines."""

    def __init__(self, proc, directory):
        self.proc = proc
        self.directory = directory
        self.statuses = []
        self.output = []

    def wait_for(self, phases, timeout=30):
        """Reads output until a status line with one of `phases` arrives; returns it."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                if self.proc.poll() is not None:
                    break
                continue
            if line.startswith("@@imjoy-status "):
                status = json.loads(line[len("@@imjoy-status "):])
                self.statuses.append(status)
                if status["phase"] in phases:
                    return status
            else:
                self.output.append(line.rstrip("\n"))
        raise AssertionError(f"no status {phases} within {timeout}s; got {self.statuses}, output {self.output}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def start_plugin(tmp_path, server_url):
    """Starts a plugin script in a workspace given by (workspace, token)."""
    started = []

    def start(name, script, workspace, token, attachments=None, config_file=None, client_id=None, script_line=1):
        directory = tmp_path / f"plugin-{len(started)}"
        directory.mkdir()
        (directory / "plugin.py").write_text(script)
        (directory / "plugin.json").write_text(json.dumps({
            "name": name, "tag": None, "attachments": attachments or {},
            "config_file": config_file, "work_dir": str(directory), "file": f"{name}.imjoy.html", "script_line": script_line,
        }))
        env = dict(os.environ, PYTHONPATH=str(RUNTIME), IMJOY_SERVER_URL=server_url, IMJOY_WORKSPACE=workspace,
                   IMJOY_TOKEN=token, IMJOY_CLIENT_ID=client_id or f"plugin-{name.replace(' ', '_')}-{len(started)}")
        proc = subprocess.Popen([sys.executable, "-m", "imjoy.runner", str(directory)], cwd=directory, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        plugin = RunningPlugin(proc, directory)
        started.append(plugin)
        return plugin

    yield start
    for plugin in started:
        plugin.stop()
