"""Installing plugins: from a repository manifest on a local HTTP server (dependency chains, cycles, missing
dependencies), from URLs, from local files and folders; updates, downgrades, enable/disable, uninstall."""
import asyncio

import pytest
from hypha_rpc import connect_to_server

from conftest import ManifestServer, run, owner_with_plugins as owner






def names(listing):
    return sorted(plugin["name"] for plugin in listing if plugin["installed"])


def test_a_manifest_plugin_brings_its_dependency_chain(fresh_engine, repository):
    repository.add("Chain C")
    repository.add("Chain B", dependencies=["Chain C"])
    repository.add("Chain A", dependencies=["Chain B"])
    engine = fresh_engine()

    async def body():
        client, plugins = await owner(engine)
        assert client.config.workspace == "default"
        summary = await plugins.install("Chain A", repository=repository.manifest_url)
        assert summary["name"] == "Chain A"
        assert summary["dependencies_installed"] == ["Chain C", "Chain B"]
        listing = await plugins.list()
        assert names(listing) == ["Chain A", "Chain B", "Chain C"]
        origins = {plugin["name"]: plugin["origin"] for plugin in listing}
        assert origins["Chain C"] == f"{repository.manifest_url}#Chain C"
        await client.disconnect()

    run(body())


def test_a_dependency_cycle_and_a_missing_dependency_install_nothing(fresh_engine, repository):
    repository.add("Cycle One", dependencies=["Cycle Two"])
    repository.add("Cycle Two", dependencies=["Cycle Three"])
    repository.add("Cycle Three", dependencies=["Cycle One"])
    repository.add("Needs Ghost", dependencies=["Ghost"])
    engine = fresh_engine()

    async def body():
        client, plugins = await owner(engine)
        with pytest.raises(Exception) as cycle:
            await plugins.install("Cycle One", repository=repository.manifest_url)
        assert "Dependency cycle: Cycle One → Cycle Two → Cycle Three → Cycle One" in str(cycle.value)
        with pytest.raises(Exception) as missing:
            await plugins.install("Needs Ghost", repository=repository.manifest_url)
        assert "Failed to install dependencies for Needs Ghost: 'Ghost'" in str(missing.value)
        assert "no plugin named 'Ghost'" in str(missing.value)
        assert names(await plugins.list()) == []
        await client.disconnect()

    run(body())


def test_update_installs_only_newer_versions_and_downgrades_need_reinstall(fresh_engine, repository):
    url = repository.add("Versioned", version="0.1.0")
    engine = fresh_engine()

    async def body():
        client, plugins = await owner(engine)
        await plugins.install(url)
        answer = await plugins.update("Versioned")
        assert answer["updated"] is False and "up to date" in answer["reason"]
        repository.add("Versioned", version="0.2.0")
        answer = await plugins.update("Versioned")
        assert answer == {"name": "Versioned", "updated": True, "previous_version": "0.1.0", "version": "0.2.0"}
        repository.add("Versioned", version="0.1.5")
        with pytest.raises(Exception) as downgrade:
            await plugins.install(url)
        assert "Versioned 0.2.0 is installed and this is version 0.1.5; pass reinstall=True" in str(downgrade.value)
        await plugins.reinstall("Versioned")
        assert [p["version"] for p in await plugins.list() if p["name"] == "Versioned"] == ["0.1.5"]
        await client.disconnect()

    run(body())


def test_disabled_plugins_do_not_start_and_uninstall_removes_them(fresh_engine, repository):
    url = repository.add("Switchable")
    engine = fresh_engine()

    async def body():
        client, plugins = await owner(engine)
        await plugins.install(url)
        await plugins.disable("Switchable")
        with pytest.raises(Exception) as refused:
            await plugins.start("Switchable")
        assert "'Switchable' is disabled in workspace default; enable it first" in str(refused.value)
        await plugins.enable("Switchable")
        api = await plugins.start("Switchable")
        assert api is not None
        await plugins.uninstall("Switchable")
        assert names(await plugins.list()) == []
        with pytest.raises(Exception) as gone:
            await plugins.start("Switchable")
        assert "No plugin named 'Switchable' is installed" in str(gone.value)
        await client.disconnect()

    run(body())


def test_local_files_and_folders_are_for_the_owner_only(fresh_engine, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    local = ManifestServer(folder)
    local.add("Local One")
    local.add("Local Two")
    local.close()
    engine = fresh_engine()

    async def body():
        client, plugins = await owner(engine)
        summary = await plugins.install(str(folder / "Local_One.imjoy.html"))
        assert summary["name"] == "Local One"
        summaries = await plugins.install(str(folder))
        assert sorted(s["name"] for s in summaries) == ["Local One", "Local Two"]
        stranger = await connect_to_server({"server_url": engine.url})
        stranger_plugins = await stranger.get_service("public/plugin-engine")
        with pytest.raises(Exception) as refused:
            await stranger_plugins.install(str(folder / "Local_One.imjoy.html"))
        assert "Installing from a local path needs the engine owner's admin token" in str(refused.value)
        await stranger.disconnect()
        await client.disconnect()

    run(body())


def test_the_engine_serves_its_own_repository_and_lists_it(fresh_engine):
    engine = fresh_engine()

    async def body():
        client, plugins = await owner(engine)
        repositories = await plugins.list_repositories()
        assert repositories[0]["url"] == f"{engine.url}/plugins/manifest.imjoy.json"
        listing = await plugins.get_repository(repositories[0]["url"])
        assert "Python Hello" in [p["name"] for p in listing["plugins"]]
        summary = await plugins.install("Python Hello", repository=repositories[0]["url"])
        assert summary["version"] == "0.1.0"
        await client.disconnect()

    run(body())
