"""The Python runtime against a real engine: classic ImJoy plugins run by `python -m imjoy.runner`."""
import asyncio

import numpy as np
import pytest
from hypha_rpc import connect_to_server


def scenario(coroutine_function):
    """Runs an async test body with a connected owner client (anonymous, own workspace, with a token)."""

    def test(server_url, start_plugin, tmp_path):
        async def body():
            owner = await connect_to_server({"server_url": server_url})
            token = await owner.generate_token()
            try:
                return await coroutine_function(owner, token, start_plugin, tmp_path)
            finally:
                await owner.disconnect()

        asyncio.run(asyncio.wait_for(body(), 60))

    test.__name__ = coroutine_function.__name__
    return test


CLASSIC = '''
from imjoy import api

class ImJoyPlugin():
    def setup(self):
        self.count = 0
        api.log("initialized")

    def run(self, ctx):
        self.count += 1
        return {"sum": ctx.config.a + ctx.config.b, "count": self.count, "tag": api.TAG}

    def double(self, array):
        return array * 2

api.export(ImJoyPlugin())
'''


@scenario
async def test_classic_plugin_setup_and_run(owner, token, start_plugin, tmp_path):
    plugin = start_plugin("Classic Plugin", CLASSIC, owner.config.workspace, token)
    ready = plugin.wait_for({"ready", "error"})
    assert ready["phase"] == "ready", ready
    assert ready["service_id"] == "Classic_Plugin"
    service = await owner.get_service("Classic_Plugin")
    result = await service.run({"config": {"a": 2, "b": 3}})
    assert result["sum"] == 5 and result["count"] == 1
    array = np.arange(12, dtype="float32").reshape(3, 4)
    doubled = await service.double(array)
    assert doubled.dtype == np.float32 and np.array_equal(doubled, array * 2)
    assert "initialized" in plugin.output


ASYNC = '''
import asyncio
from imjoy import api

class ImJoyPlugin:
    async def setup(self):
        await api.log("async setup")
        await api.register({"name": "blur", "ui": "sigma {id:'sigma', type:'number', placeholder:2}",
                            "run": self.blur})

    async def blur(self, ctx):
        await asyncio.sleep(0.01)
        return {"sigma": ctx.config.sigma}

    async def run(self, ctx):
        return "ran"

api.export(ImJoyPlugin())
'''


@scenario
async def test_async_plugin_with_an_op(owner, token, start_plugin, tmp_path):
    plugin = start_plugin("Async Plugin", ASYNC, owner.config.workspace, token)
    assert plugin.wait_for({"ready", "error"})["phase"] == "ready"
    service = await owner.get_service("Async_Plugin")
    assert await service.run({}) == "ran"
    op = await owner.get_service("Async_Plugin__blur")
    assert op["ui"].startswith("sigma")
    assert op["type"] == "operator"
    assert (await op.run({"config": {"sigma": 4}}))["sigma"] == 4


HEADLESS = '''
from imjoy import api

class ImJoyPlugin:
    async def setup(self):
        api.alert("hello from the plugin")
        await api.showMessage("a message")
        api.setConfig("threshold", 7)
        self.attachment = await api.getAttachment("notes")

    async def run(self, ctx):
        return {"threshold": await api.getConfig("threshold"), "attachment": self.attachment,
                "work_dir": api.WORK_DIR}

api.export(ImJoyPlugin())
'''


@scenario
async def test_headless_ui_config_and_attachments(owner, token, start_plugin, tmp_path):
    config_file = str(tmp_path / "config.json")
    plugin = start_plugin("Headless", HEADLESS, owner.config.workspace, token,
                          attachments={"notes": "some notes"}, config_file=config_file)
    assert plugin.wait_for({"ready", "error"})["phase"] == "ready"
    result = await (await owner.get_service("Headless")).run({})
    assert result["threshold"] == 7 and result["attachment"] == "some notes"
    assert result["work_dir"] == str(plugin.directory)
    assert "[alert] hello from the plugin" in plugin.output
    assert "[showMessage] a message" in plugin.output
    again = start_plugin("Headless", HEADLESS.replace('api.setConfig("threshold", 7)', "pass"), owner.config.workspace,
                         token, attachments={"notes": "x"}, config_file=config_file, client_id="headless-again")
    assert again.wait_for({"ready", "error"})["phase"] == "ready"
    assert (await (await owner.get_service("headless-again:Headless")).run({}))["threshold"] == 7


@scenario
async def test_errors_in_setup_and_script_are_reported(owner, token, start_plugin, tmp_path):
    broken_setup = start_plugin("Bad Setup", '''
from imjoy import api
class P:
    def setup(self):
        raise ValueError("cannot load the model")
api.export(P())
''', owner.config.workspace, token, script_line=10)
    status = broken_setup.wait_for({"ready", "error"})
    assert status["phase"] == "error" and status["stage"] == "setup"
    assert status["message"] == "ValueError: cannot load the model"
    assert "Traceback" in status["traceback"]
    # Line numbers are those of the plugin file (the script starts on line 10) and the source line is quoted.
    assert 'File "Bad Setup.imjoy.html", line 14, in setup\n    raise ValueError' in status["traceback"]
    assert broken_setup.proc.wait(10) == 1
    syntax = start_plugin("Bad Script", "def broken(:\n", owner.config.workspace, token)
    status = syntax.wait_for({"ready", "error"})
    assert status["stage"] == "script" and status["message"].startswith("SyntaxError")
    silent = start_plugin("No Export", "x = 1\n", owner.config.workspace, token)
    assert silent.wait_for({"ready", "error"})["message"] == "the plugin script never called api.export(...)"
