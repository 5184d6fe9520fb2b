"""Each way a plugin can fail gives its own specific error within seconds, and the engine keeps serving others."""
import asyncio
import time

from hypha_rpc import connect_to_server

from conftest import plugin_source, source


def run(coroutine, timeout=240):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


async def connect(engine):
    client = await connect_to_server({"server_url": engine.url})
    return client, await client.get_service("public/plugin-engine")


async def start_error(plugins, *args, **kwargs):
    """Starts a plugin that must fail; returns (message, seconds it took)."""
    started = time.monotonic()
    try:
        await plugins.start(*args, **kwargs)
    except Exception as error:
        return str(error), time.monotonic() - started
    raise AssertionError(f"start{args} succeeded but should have failed")


async def still_serving(plugins):
    """Another plugin still starts and answers."""
    api = await plugins.start(plugin_source("Classic"))
    assert await api.greet("still here") == "Hello, still here!"


RAISES_IN_SETUP = '''
from imjoy import api

class ImJoyPlugin:
    def setup(self):
        self.load_model("missing-weights.pt")

    def load_model(self, path):
        raise FileNotFoundError(f"model weights not found: {path}")

api.export(ImJoyPlugin())
'''


def test_a_plugin_that_raises_in_setup_reports_its_traceback(engine):
    async def body():
        client, plugins = await connect(engine)
        message, _ = await start_error(plugins, source("Raises In Setup", RAISES_IN_SETUP))
        assert "'Raises In Setup' failed in setup(): FileNotFoundError: model weights not found: missing-weights.pt" in message
        assert "Traceback (most recent call last)" in message
        # Line numbers are those of the plugin file, and the failing line is quoted.
        assert 'File "Raises In Setup.imjoy.html", line 13, in load_model' in message
        assert "runner.py" not in message  # the runtime's own frames are left out
        assert 'raise FileNotFoundError(f"model weights not found: {path}")' in message
        status = await plugins.status("Raises In Setup")
        assert status["state"] == "failed" and "FileNotFoundError" in status["error"]
        await still_serving(plugins)
        await client.disconnect()

    run(body())


EXITS_MID_CALL = '''
import os, sys
from imjoy import api

class ImJoyPlugin:
    def setup(self):
        pass

    def segment(self, image):
        print("fatal: CUDA driver version is insufficient", file=sys.stderr, flush=True)
        os._exit(3)

    def slow(self):
        import time
        time.sleep(30)

api.export(ImJoyPlugin())
'''


def test_a_plugin_that_exits_mid_call_fails_the_call_with_exit_code_and_stderr(engine):
    async def body():
        client, plugins = await connect(engine)
        api = await plugins.start(source("Exits Mid Call", EXITS_MID_CALL))
        started = time.monotonic()
        try:
            await api.segment([1, 2, 3])
            raise AssertionError("the call returned although the plugin died")
        except Exception as error:
            message = str(error)
        assert time.monotonic() - started < 10
        assert "'Exits Mid Call' crashed (exit code 3)" in message
        assert "fatal: CUDA driver version is insufficient" in message
        status = await plugins.status("Exits Mid Call")
        assert status["state"] == "crashed" and status["last_exit"] == "exit code 3"
        await still_serving(plugins)
        # A crashed plugin can be started again.
        api = await plugins.start("Exits Mid Call")
        assert (await plugins.status("Exits Mid Call"))["state"] == "running"
        await client.disconnect()

    run(body())


def test_every_pending_call_fails_at_once_when_the_plugin_is_killed(engine):
    async def body():
        client, plugins = await connect(engine)
        api = await plugins.start(source("Killed While Busy", EXITS_MID_CALL))
        pid = (await plugins.status("Killed While Busy"))["pid"]
        calls = [asyncio.ensure_future(api.slow()) for _ in range(3)]
        await asyncio.sleep(0.5)
        import os, signal
        started = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert time.monotonic() - started < 10
        for result in results:
            assert isinstance(result, Exception), result
            assert "'Killed While Busy' crashed (killed by signal 9 (SIGKILL))" in str(result)
        await client.disconnect()

    run(body())


HANGS_IN_SETUP = '''
import time
from imjoy import api

class ImJoyPlugin:
    def setup(self):
        time.sleep(3600)

api.export(ImJoyPlugin())
'''


def test_a_plugin_that_hangs_in_setup_times_out_naming_the_phase(engine):
    async def body():
        client, plugins = await connect(engine)
        message, seconds = await start_error(plugins, source("Hangs In Setup", HANGS_IN_SETUP), timeout=3)
        assert "'Hangs In Setup' timed out in phase setup(): nothing happened for 3 s, so it was stopped" in message
        assert seconds < 15
        status = await plugins.status("Hangs In Setup")
        assert status["state"] == "failed" and status["pid"] is None
        await still_serving(plugins)
        await client.disconnect()

    run(body())


def test_a_requirement_that_does_not_exist_is_named(engine):
    async def body():
        client, plugins = await connect(engine)
        plugin = source("Bad Requirement", "from imjoy import api\napi.export({})",
                        requirements=["numpy", "imjoy-no-such-package-4711"])
        message, seconds = await start_error(plugins, plugin)
        assert "could not install the requirement 'imjoy-no-such-package-4711'" in message
        assert "imjoy-no-such-package-4711 was not found in the package" in message  # uv's words, from its output
        assert seconds < 60
        await still_serving(plugins)
        await client.disconnect()

    run(body())


def test_a_broken_plugin_file_is_refused_at_install_with_its_location(engine):
    async def body():
        client, plugins = await connect(engine)
        broken = '<config lang="json">\n{"name": "Broken", "type": "native-python",,}\n</config>\n<script lang="python">\n</script>'
        try:
            await plugins.install(broken)
            raise AssertionError("a broken plugin file was installed")
        except Exception as error:
            assert "is not a valid plugin, nothing was installed: <plugin>:2:44: invalid JSON in <config>" in str(error)
        await client.disconnect()

    run(body())
