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


ORDERED = '''
import asyncio, time
from imjoy import api

events = []

async def blur(ctx):
    events.append(("blur start", ctx["data"]))
    await asyncio.sleep(0.05)
    events.append(("blur end", ctx["data"]))
    return ctx["data"]

def plain(ctx):
    events.append(("plain", ctx["data"]))
    return ctx["data"]

async def frames(ctx):
    for i in range(2):
        yield i

class ImJoyPlugin:
    async def setup(self):
        await api.register({"name": "blur", "run": blur})
        await api.register({"name": "plain", "run": plain})
        await api.register({"name": "frames", "run": frames})

    async def run(self, ctx):
        events.append(("start", ctx["data"]))
        await asyncio.sleep(0.1)
        events.append(("end", ctx["data"]))
        if ctx["data"] == "boom":
            raise ValueError("boom")
        return ctx["data"]

    def events(self):
        return list(events)

    def clear(self):
        events.clear()

api.export(ImJoyPlugin())
'''


def overlapping(events, start="start", end="end"):
    """Pairs of calls that ran at the same time: a start while another call had started and not ended."""
    running, pairs = set(), []
    for kind, data in events:
        if kind == start:
            pairs.extend((other, data) for other in running)
            running.add(data)
        elif kind == end:
            running.discard(data)
    return pairs


@scenario
async def test_one_workflow_runs_calls_are_taken_one_at_a_time_in_arrival_order(owner, token, start_plugin, tmp_path):
    """`imjoy run` sends a step's next input before the current one is done; the runtime queues calls whose ctx has
    the same `_workflow_id`, so an async `run` still sees them one at a time. Other calls overlap as they always did."""
    plugin = start_plugin("Ordered", ORDERED, owner.config.workspace, token)
    assert plugin.wait_for({"ready", "error"})["phase"] == "ready"
    service = await owner.get_service("Ordered")
    assert service["config"]["workflow_calls_in_order"] is True

    # Five calls of one workflow run, all sent at once: one at a time, in the order sent, each its own answer.
    answers = await asyncio.gather(*(service.run({"data": i, "_workflow_id": "w1"}) for i in range(5)))
    assert answers == list(range(5))
    events = await service.events()
    assert [data for kind, data in events if kind == "start"] == list(range(5))
    assert overlapping(events) == [], events

    # A call that fails gives the queue to the next one.
    await service.clear()
    answers = await asyncio.gather(*(service.run({"data": d, "_workflow_id": "w9"}) for d in ("x", "boom", "y")),
                                   return_exceptions=True)
    assert answers[0] == "x" and answers[2] == "y" and "boom" in str(answers[1]), answers
    assert [d for kind, d in await service.events() if kind == "start"] == ["x", "boom", "y"]

    # Two workflow runs at once: each run's calls stay in order; the runs interleave.
    await service.clear()
    await asyncio.gather(*(service.run({"data": f"{w}{i}", "_workflow_id": w}) for i in range(3) for w in "ab"))
    events = await service.events()
    for w in "ab":
        assert [d for kind, d in events if kind == "start" and d[0] == w] == [f"{w}0", f"{w}1", f"{w}2"]
        assert overlapping([e for e in events if e[1][0] == w]) == [], events
    assert overlapping(events) != [], "two workflow runs are not queued behind each other"

    # Calls without a workflow id run concurrently, as before.
    await service.clear()
    await asyncio.gather(*(service.run({"data": i}) for i in range(3)))
    assert len(overlapping(await service.events())) == 3

    # An op's async run is queued the same way; a plain function still answers (with or without the id).
    await service.clear()
    blur = await owner.get_service("Ordered__blur")
    assert blur["config"]["workflow_calls_in_order"] is True
    await asyncio.gather(*(blur.run({"data": i, "_workflow_id": "w2"}) for i in range(4)))
    events = await service.events()
    assert [d for kind, d in events if kind == "blur start"] == [0, 1, 2, 3]
    assert overlapping(events, "blur start", "blur end") == [], events
    plain = await owner.get_service("Ordered__plain")
    assert await plain.run({"data": 7, "_workflow_id": "w3"}) == 7
    assert await plain.run({"data": 8}) == 8
    # A generator is left as it is (its iteration would outlive its turn), and its service says so.
    assert (await owner.get_service("Ordered__frames"))["config"]["workflow_calls_in_order"] is False
