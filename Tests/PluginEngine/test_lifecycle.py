"""Many plugins at once, who owns a plugin process, and no orphans when the engine stops or dies."""
import asyncio
import signal

from hypha_rpc import connect_to_server

from conftest import pid_alive, source, wait_until


def run(coroutine, timeout=240):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


async def connect(url, **config):
    client = await connect_to_server({"server_url": url, **config})
    return client, await client.get_service("public/plugin-engine")


WORKER = '''
import asyncio, os
from imjoy import api

class ImJoyPlugin:
    def setup(self):
        self.index = {index}

    async def work(self, n):
        await asyncio.sleep(0.05)
        return {{"index": self.index, "square": n * n, "pid": os.getpid()}}

api.export(ImJoyPlugin())
'''


def test_twenty_plugins_run_at_once_and_answer_concurrent_calls(engine):
    async def body():
        client, plugins = await connect(engine.url)
        names = [f"Worker {index:02d}" for index in range(20)]
        apis = await asyncio.gather(*[
            plugins.start(source(name, WORKER.format(index=index))) for index, name in enumerate(names)])
        results = await asyncio.gather(*[
            api.work(index + round_ * 100) for round_ in range(3) for index, api in enumerate(apis)])
        for position, result in enumerate(results):
            index = position % 20
            assert result["index"] == index and result["square"] == (index + (position // 20) * 100) ** 2
        pids = {result["pid"] for result in results}
        assert len(pids) == 20  # twenty separate processes
        running = [row for row in await plugins.list() if row["name"].startswith("Worker ")]
        assert len(running) == 20 and all(row["state"] == "running" for row in running)
        await asyncio.gather(*[plugins.stop(name) for name in names])
        assert wait_until(lambda: not any(pid_alive(pid) for pid in pids), 10)
        await client.disconnect()

    run(body())


SLEEPER = '''
from imjoy import api
api.export({"ping": lambda: "pong"})
'''


def test_plugins_stop_with_their_client_unless_they_allow_detach(engine):
    async def body():
        client, plugins = await connect(engine.url)
        token = await client.generate_token()
        workspace = client.config.workspace
        await plugins.start(source("Attached", SLEEPER))
        await plugins.start(source("Detached", SLEEPER, flags=["allow-detach"]))
        attached = (await plugins.status("Attached"))["pid"]
        detached = (await plugins.status("Detached"))["pid"]
        # Another client of the workspace keeps it alive and watches.
        watcher, watcher_plugins = await connect(engine.url, workspace=workspace, token=token)
        await client.disconnect()
        assert await asyncio.to_thread(wait_until, lambda: not pid_alive(attached), 15)
        assert pid_alive(detached)
        status = await watcher_plugins.status("Detached")
        assert status["state"] == "running"
        detached_api = await watcher.get_service("Detached")
        assert await detached_api.ping() == "pong"
        await watcher_plugins.stop("Detached")
        await watcher.disconnect()

    run(body())


def test_single_instance_plugins_are_shared_by_the_workspace(engine):
    async def body():
        first, first_plugins = await connect(engine.url)
        token = await first.generate_token()
        second, second_plugins = await connect(engine.url, workspace=first.config.workspace, token=token)
        plugin = source("Shared Model", SLEEPER, flags=["single-instance"])
        apis = await asyncio.gather(first_plugins.start(plugin), second_plugins.start(plugin))
        assert [await api.ping() for api in apis] == ["pong", "pong"]
        first_status = await first_plugins.status("Shared Model")
        second_status = await second_plugins.status("Shared Model")
        assert first_status["pid"] == second_status["pid"]
        # A plugin without the flag gets one process per client.
        await first_plugins.start(source("Per Client", SLEEPER))
        await second_plugins.start(source("Per Client", SLEEPER))
        assert (await first_plugins.status("Per Client"))["pid"] != (await second_plugins.status("Per Client"))["pid"]
        await second.disconnect()
        await first.disconnect()

    run(body())


def start_three(url):
    async def body():
        client, plugins = await connect(url)
        for index in range(3):
            await plugins.start(source(f"Orphan Check {index}", SLEEPER, flags=["allow-detach"]))
        return [(await plugins.status(f"Orphan Check {index}"))["pid"] for index in range(3)], client

    return body()


def test_engine_stop_stops_every_plugin_and_a_restart_finds_its_plugins_again(fresh_engine, tmp_path):
    data = tmp_path / "data"
    engine = fresh_engine(data)

    async def first_run():
        pids, client = await start_three(engine.url)
        await client.disconnect()
        return pids

    pids = run(first_run())
    assert all(pid_alive(pid) for pid in pids)
    assert engine.stop() == 0
    assert not [pid for pid in pids if pid_alive(pid)], "plugin processes outlived the engine"

    # Restart on the same data directory: the cached environment is still there and is reused.
    again = fresh_engine(data)

    async def second_run():
        client, plugins = await connect(again.url)
        api = await plugins.start(source("Orphan Check 0", SLEEPER))
        assert (await plugins.status("Orphan Check 0"))["environment"]["reused"] is True
        assert await api.ping() == "pong"
        await client.disconnect()

    run(second_run())


def test_plugins_exit_by_themselves_when_the_engine_is_killed(fresh_engine):
    engine = fresh_engine()

    async def start():
        pids, client = await start_three(engine.url)
        return pids

    pids = run(start())
    engine.proc.send_signal(signal.SIGKILL)  # no chance to clean up: the plugins notice their parent is gone
    engine.proc.wait(10)
    assert wait_until(lambda: not any(pid_alive(pid) for pid in pids), 15), "plugins outlived a killed engine"


RESUMABLE = '''
from imjoy import api

class ImJoyPlugin:
    def setup(self):
        self.setups = 1
        self.resumes = 0

    def resume(self):
        self.resumes += 1

    def counts(self):
        return {"setups": self.setups, "resumes": self.resumes}

api.export(ImJoyPlugin())
'''


def test_finding_a_detached_plugin_running_calls_its_resume(engine):
    async def body():
        first, first_plugins = await connect(engine.url)
        token = await first.generate_token()
        plugin = source("Resumable", RESUMABLE, flags=["allow-detach", "single-instance"])
        api = await first_plugins.start(plugin)
        assert await api.counts() == {"setups": 1, "resumes": 0}
        second, second_plugins = await connect(engine.url, workspace=first.config.workspace, token=token)
        await first.disconnect()
        api = await second_plugins.start(plugin)
        assert await api.counts() == {"setups": 1, "resumes": 1}
        await second_plugins.stop("Resumable")
        await second.disconnect()

    run(body())
