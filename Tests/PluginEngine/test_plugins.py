"""Classic ImJoy native-python plugins start under `imjoy serve` and are called from a hypha-rpc client."""
import asyncio
import re
import json
import os
import subprocess
from pathlib import Path

import numpy as np
from hypha_rpc import connect_to_server

from conftest import plugin_source


def run(coroutine, timeout=240):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


async def connect(engine):
    client = await connect_to_server({"server_url": engine.url})
    return client, await client.get_service("public/plugin-engine")


def test_classic_plugin_setup_run_and_methods(engine):
    async def body():
        client, plugins = await connect(engine)
        summary = await plugins.install(plugin_source("Classic"))
        assert summary["name"] == "Classic" and summary["type"] == "native-python"
        api = await plugins.start("Classic")
        result = await api.run({"config": {"a": 2, "b": 40}, "data": {}})
        assert result["sum"] == 42 and result["runs"] == 1
        assert result["work_dir"].endswith("/work/" + client.config.workspace)
        assert await api.greet("ImJoy") == "Hello, ImJoy!"
        assert await api.greet("ImJoy", punctuation="?") == "Hello, ImJoy?"
        # The plugin is also a service of the workspace, named after it.
        again = await client.get_service("Classic")
        assert (await again.run({"config": {"a": 1, "b": 1}}))["runs"] == 2
        logs = [entry["text"] for entry in await plugins.logs("Classic")]
        assert "Classic is set up" in logs
        status = await plugins.status("Classic")
        assert status["state"] == "running" and status["pid"] > 0
        listed = {row["name"]: row for row in await plugins.list()}
        assert listed["Classic"]["state"] == "running" and listed["Classic"]["installed"]
        await client.disconnect()

    run(body())


def test_async_plugin_registers_ops_with_ui(engine):
    async def body():
        client, plugins = await connect(engine)
        await plugins.install(plugin_source("AsyncOps"))
        api = await plugins.start("Async Ops")
        assert await api.run({"config": {}, "data": {}}) == "async run done"
        ops = {s["id"].split(":")[-1]: s for s in await client.list_services({"type": "operator"})}
        assert {"Async_Ops__threshold", "Async_Ops__invert"} <= set(ops)
        threshold = await client.get_service("Async_Ops__threshold")
        assert threshold.ui.startswith("level {id: 'level'")
        assert await threshold.run({"config": {"level": 99}}) == {"op": "threshold", "level": 99}
        invert = await client.get_service("Async_Ops__invert")
        assert (await invert.run({"config": {}, "data": {"values": [0, 255, 5]}}))["values"] == [255, 0, 250]
        await client.disconnect()

    run(body())


def test_numpy_plugin_round_trips_arrays_and_reuses_its_environment(engine):
    async def body():
        client, plugins = await connect(engine)
        await plugins.install(plugin_source("NumpyFilter"))
        api = await plugins.start("Numpy Filter")
        first = await plugins.status("Numpy Filter")
        image = np.array([[0, 50], [100, 200]], dtype="uint8")
        normalized = await api.normalize(image)
        assert normalized.dtype == np.float32 and normalized.shape == (2, 2)
        assert np.allclose(normalized, image.astype("float32") / 200)
        ramp = await api.ramp(200, 300)
        assert ramp.dtype == np.uint16 and ramp.shape == (200, 300) and int(ramp[199, 299]) == 200 * 300 - 1
        assert re.match(r"^\d+\.\d+", (await api.run({"config": {}, "data": {}}))["numpy"])
        # Answers of every size arrive: below, at and above the size the runtime sends unchunked (just under 1 MiB).
        for side in (300, 400, 511, 600, 1024):
            square = np.tile(np.arange(side, dtype="uint16"), (side, 1))
            expected = square.astype("float32") / (side - 1)
            assert np.allclose(await api.normalize(square), expected), f"{side}x{side} float32 answer"

        # A second start with the same requirements (here: a restart) reuses the environment: no install runs.
        await plugins.stop("Numpy Filter")
        assert (await plugins.status("Numpy Filter"))["state"] == "stopped"
        api = await plugins.start("Numpy Filter")
        second = await plugins.status("Numpy Filter")
        assert second["environment"]["key"] == first["environment"]["key"]
        assert second["environment"]["reused"] is True
        assert second["start_seconds"] < first["start_seconds"] or first["environment"]["reused"]
        assert (await api.ramp(2, 2)).tolist() == [[0, 1], [2, 3]]
        await client.disconnect()

    run(body())
    # The first start's time is logged by the engine.
    assert engine.log_matching(r"plugin.name=Numpy Filter plugin.seconds=\d")
    assert engine.log_matching(r"env.seconds=[0-9.]+ .*Environment built")


def test_start_takes_plugin_source_directly_and_restart_replaces_the_process(engine):
    async def body():
        client, plugins = await connect(engine)
        api = await plugins.start(plugin_source("Classic"))
        pid = (await plugins.status("Classic"))["pid"]
        same = await plugins.start("Classic")
        assert (await plugins.status("Classic"))["pid"] == pid
        assert await same.greet("x") == "Hello, x!"
        await plugins.start("Classic", restart=True)
        assert (await plugins.status("Classic"))["pid"] != pid
        await client.disconnect()

    run(body())


def test_browser_plugins_are_refused_with_a_reason(engine):
    async def body():
        client, plugins = await connect(engine)
        window = '<config lang="json">{"name": "Viewer", "type": "window"}</config><script>api.export({})</script>'
        try:
            await plugins.start(window)
            raise AssertionError("a window plugin started in the engine")
        except Exception as error:
            assert "runs in the browser" in str(error)
        try:
            await plugins.start("Never Installed")
            raise AssertionError("a plugin that is not installed started")
        except Exception as error:
            assert "No plugin named 'Never Installed' is installed" in str(error)
        await client.disconnect()

    run(body())


def test_install_output_and_state_changes_stream_live_to_the_workspace(engine):
    async def body():
        client, plugins = await connect(engine)
        statuses, lines = [], []
        client.on("plugin_status", lambda message: statuses.append(message["data"]))
        client.on("plugin_log", lambda message: lines.append(message["data"]))
        await client.subscribe(["plugin_status", "plugin_log"])
        # A requirement no other test uses, so this start really installs something.
        plugin = '''<config lang="json">{"name": "Streams", "type": "native-python", "requirements": ["six==1.17.0"]}
</config><script lang="python">
import six
from imjoy import api
print("hello from stdout", flush=True)
api.export({"version": lambda: six.__version__})
</script>'''
        api = await plugins.start(plugin)
        assert await api.version() == "1.17.0"
        await asyncio.sleep(0.5)
        states = [(s["state"], s.get("phase")) for s in statuses if s["name"] == "Streams"]
        assert states[0] == ("starting", "environment") and states[-1] == ("running", None)
        assert ("starting", "setup()") in states
        sources = {line["source"] for line in lines if line["name"] == "Streams"}
        assert {"install", "engine", "stdout"} <= sources
        texts = [line["text"] for line in lines if line["name"] == "Streams"]
        assert any("six==1.17.0" in text for text in texts if "Installed" in text or "+ six" in text)
        assert any(re.match(r"environment: .*\(\d+%\)", text) for text in texts)  # progress signal
        assert "hello from stdout" in texts
        await client.disconnect()

    run(body())


def test_a_plugins_imports_are_compiled_once_even_with_pythondontwritebytecode(fresh_engine, tmp_path, monkeypatch):
    """uv installs no .pyc files; the first start compiles the imports and caches them in the environment. With
    PYTHONDONTWRITEBYTECODE (set here for the engine) every start compiled them again, unless the engine drops it."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    engine = fresh_engine(tmp_path / "data")

    async def body():
        client, plugins = await connect(engine)
        plugin = '''<config lang="json">{"name": "Compiled", "type": "native-python", "requirements": ["six==1.17.0"]}
</config><script lang="python">
import sys
import six
from imjoy import api
api.export({"cached": lambda: [six.__cached__, sys.dont_write_bytecode]})
</script>'''
        api = await plugins.start(plugin)
        cached, dont_write = await api.cached()
        await client.disconnect()
        return cached, dont_write

    cached, dont_write = run(body())
    assert dont_write is False
    assert cached.endswith(".pyc") and str(tmp_path / "data" / "envs") in cached
    assert os.path.isfile(cached), f"{cached} was not written on the plugin's first start"
    packages = Path(cached).parents[1]
    assert list((packages / "hypha_rpc" / "__pycache__").glob("rpc.cpython-*.pyc")), "the runtime's own imports"


def test_cmd_and_repo_requirements_run_in_the_plugin_work_directory(engine, tmp_path):
    repository = tmp_path / "helper-repo"
    repository.mkdir()
    (repository / "helper.py").write_text("VALUE = 42\n")
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    for step in (["init", "-q"], ["add", "helper.py"], ["commit", "-q", "-m", "helper"]):
        subprocess.run(git + step, cwd=repository, check=True)

    async def body():
        client, plugins = await connect(engine)
        config = {"name": "Work Steps", "type": "native-python",
                  "requirements": ["cmd:echo made-by-cmd > cmd-marker.txt", f"repo:{repository}"]}
        plugin = f'''<config lang="json">{json.dumps(config)}</config><script lang="python">
import os
from imjoy import api
api.export({{"look": lambda: {{"cwd": os.getcwd(), "work_dir": api.WORK_DIR,
    "marker": open("cmd-marker.txt").read().strip(), "helper": open("helper-repo/helper.py").read().strip()}}}})
</script>'''
        api = await plugins.start(plugin)
        seen = await api.look()
        assert seen["marker"] == "made-by-cmd" and seen["helper"] == "VALUE = 42"
        assert os.path.realpath(seen["cwd"]) == os.path.realpath(seen["work_dir"])
        await client.disconnect()

    run(body())
