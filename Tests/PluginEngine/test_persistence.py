"""Nothing a user installed or saved is lost: workspaces, plugins, settings, workflows, layouts and tokens survive
a restart; an engine killed with SIGKILL in the middle of installs restarts with a consistent store."""
import asyncio
import random
import sqlite3
import time

import pytest
from hypha_rpc import connect_to_server

from conftest import ManifestServer, run, owner_with_plugins as owner

HELLO_RUNS = '''<config lang="json">{"name": "Counter", "type": "native-python", "version": "0.1.0"}</config>
<script lang="python">
from imjoy import api

class ImJoyPlugin:
    async def run(self, ctx):
        runs = (await api.getConfig("runs") or 0) + 1
        await api.setConfig("runs", runs)
        return runs

api.export(ImJoyPlugin())
</script>'''

WORKFLOW = {"format": "imjoy-workflow", "version": 1, "name": "count twice",
            "steps": [{"plugin": "Counter"}, {"plugin": "Counter", "config": {"again": True}}]}






def test_everything_saved_survives_a_restart(fresh_engine, tmp_path):
    data = tmp_path / "data"
    engine = fresh_engine(data)
    state = {}

    async def before():
        client, _ = await owner(engine)
        await client.create_workspace({"name": "project", "description": "nuclei counting"})
        await client.disconnect()
        client, plugins = await owner(engine, "project")
        await plugins.install(HELLO_RUNS)
        api = await plugins.start("Counter")
        assert await api.run({}) == 1
        await plugins.set_config("Counter", {"threshold": 0.5, "labels": ["a", "b"]})
        assert await plugins.save_workflow(WORKFLOW) == "count twice"
        await plugins.set_layout({"windows": [{"id": "w1", "x": 0, "y": 0, "w": 4, "h": 3}]})
        state["reader"] = await client.generate_token({"permission": "read", "expires_in": 3600, "label": "reader"})
        state["revoked"] = await client.generate_token({"permission": "read_write", "label": "to revoke"})
        await client.revoke_token(state["revoked"])
        await client.disconnect()
        # An anonymous user's temporary workspace is not kept.
        guest = await connect_to_server({"server_url": engine.url})
        guest_plugins = await guest.get_service("public/plugin-engine")
        await guest_plugins.install(HELLO_RUNS.replace("Counter", "Guest Counter"))
        await guest.disconnect()

    run(before())
    assert engine.stop() == 0
    engine = fresh_engine(data)

    async def after():
        client, plugins = await owner(engine, "project")
        workspaces = {w["name"]: w for w in await client.list_workspaces()}
        assert set(workspaces) >= {"default", "project"}
        assert workspaces["project"]["description"] == "nuclei counting"
        listing = await plugins.list()
        assert [p["name"] for p in listing if p["installed"]] == ["Counter"]
        assert await plugins.get_config("Counter", "threshold") == 0.5
        assert await plugins.get_config("Counter", "labels") == ["a", "b"]
        assert (await plugins.load_workflow("count twice"))["steps"][1]["config"] == {"again": True}
        assert await plugins.get_layout() == {"windows": [{"id": "w1", "x": 0, "y": 0, "w": 4, "h": 3}]}
        api = await plugins.start("Counter")
        assert await api.run({}) == 2, "the plugin's own setConfig value was lost"
        tokens = {t["label"]: t for t in await client.list_tokens()}
        assert tokens["reader"]["revoked"] is False and tokens["to revoke"]["revoked"] is True
        await plugins.stop("Counter")
        await client.disconnect()
        reader = await connect_to_server({"server_url": engine.url, "token": state["reader"]})
        assert reader.config.workspace == "project"
        await reader.disconnect()
        with pytest.raises(Exception) as refused:
            await connect_to_server({"server_url": engine.url, "token": state["revoked"]})
        assert "the token was revoked" in str(refused.value)

    run(after())
    database = sqlite3.connect(data / "imjoy.sqlite")
    workspaces = [row[0] for row in database.execute("SELECT name FROM workspace")]
    assert not any(name.startswith("ws-user-") for name in workspaces), workspaces


def test_a_killed_engine_restarts_with_every_install_complete_or_absent(fresh_engine, tmp_path):
    folder = tmp_path / "repository"
    folder.mkdir()
    repository = ManifestServer(folder, delay=0.02)
    for index in range(12):
        repository.add(f"Base {index}")
        repository.add(f"Top {index}", dependencies=[f"Base {index}"])
    data = tmp_path / "data"
    rng = random.Random(7)
    try:
        for attempt in range(3):
            engine = fresh_engine(data)

            async def install_until_killed():
                client, plugins = await owner(engine)
                for index in range(12):
                    await plugins.install(f"Top {index}", repository=repository.manifest_url, reinstall=True)

            async def body():
                task = asyncio.ensure_future(install_until_killed())
                await asyncio.sleep(rng.uniform(0.2, 1.2))
                engine.kill()  # SIGKILL, whatever it is doing
                try:
                    await asyncio.wait_for(task, 10)
                except BaseException:
                    pass

            run(body())
            check = sqlite3.connect(data / "imjoy.sqlite")
            assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            check.close()
        engine = fresh_engine(data)

        async def verify():
            client, plugins = await owner(engine)
            installed = set(p["name"] for p in await plugins.list() if p["installed"])
            assert installed, "no install finished before the kills; the test proves nothing"
            for name in installed:
                if name.startswith("Top "):
                    assert name.replace("Top", "Base") in installed, f"{name} is installed without its dependency"
            await client.disconnect()

        run(verify())
    finally:
        repository.close()
