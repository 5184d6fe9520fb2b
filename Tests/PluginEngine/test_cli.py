"""The command line on the engine's data: install/list/remove/update, workspaces (create, export, import, delete
with --yes) and tokens, with an embedded engine or the `imjoy serve` running on the same data directory."""
import json
import subprocess

from hypha_rpc import connect_to_server

from conftest import ManifestServer, binary, owner_with_plugins, run, source


def imjoy(*arguments, check=True):
    result = subprocess.run([binary(), *map(str, arguments)], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"imjoy {' '.join(map(str, arguments))} failed ({result.returncode}):\n{result.stderr}")
    return result


def test_install_list_update_and_remove_without_a_running_engine(tmp_path):
    data = tmp_path / "data"
    folder = tmp_path / "repository"
    folder.mkdir()
    repository = ManifestServer(folder)
    try:
        repository.add("Base")
        repository.add("Top", dependencies=["Base"])
        result = imjoy("install", "Top", "--repository", repository.manifest_url, "--data-dir", data)
        assert result.stdout == "installed Top 0.1.0 (with Base)\n"
        listing = imjoy("list", "--data-dir", data).stdout.splitlines()
        assert listing[0].split() == ["NAME", "VERSION", "TYPE", "STATE", "ORIGIN"]
        assert [line.split()[0] for line in listing[1:]] == ["Base", "Top"]
        repository.add("Top", version="0.2.0", dependencies=["Base"])
        assert imjoy("update", "Top", "--data-dir", data).stdout == "updated Top 0.1.0 → 0.2.0\n"
        assert imjoy("remove", "Top", "--data-dir", data).stdout == "removed Top\n"
        missing = imjoy("install", tmp_path / "nowhere.imjoy.html", "--data-dir", data, check=False)
        assert missing.returncode == 1
        assert missing.stderr.strip().splitlines() == [
            f"Error: Cannot read the plugin file {tmp_path / 'nowhere.imjoy.html'}: it does not exist or is not readable"]
    finally:
        repository.close()


def test_commands_use_the_engine_that_serves_the_data_directory(fresh_engine, tmp_path):
    data = tmp_path / "data"
    engine = fresh_engine(data)
    plugin = tmp_path / "Served.imjoy.html"
    plugin.write_text(source("Served", "from imjoy import api\napi.export({'ping': lambda: 'pong'})"))
    assert imjoy("install", plugin, "--data-dir", data).stdout == "installed Served 0.1.0\n"
    assert engine.log_matching("plugin=Served.*Plugin installed"), "the running engine did not do the install"

    async def body():
        client, plugins = await owner_with_plugins(engine)
        api = await plugins.start("Served")
        assert await api.ping() == "pong"
        await plugins.stop("Served")
        await client.disconnect()

    run(body())


def test_workspaces_export_import_and_delete_with_confirmation(fresh_engine, tmp_path):
    data = tmp_path / "data"
    engine = fresh_engine(data)

    async def fill():
        client, _ = await owner_with_plugins(engine)
        await client.create_workspace({"name": "lab", "description": "cells"})
        await client.disconnect()
        client, plugins = await owner_with_plugins(engine, "lab")
        await plugins.install(source("Keeper", "from imjoy import api\napi.export({})"))
        await plugins.set_config("Keeper", "threshold", 0.25)
        await plugins.save_workflow({"name": "flow", "steps": [{"plugin": "Keeper"}]})
        await plugins.set_layout({"windows": ["a"]})
        await client.disconnect()

    run(fill())
    listing = imjoy("workspace", "list", "--data-dir", data).stdout
    assert "lab" in listing and "cells" in listing
    exported = tmp_path / "lab.json"
    assert imjoy("workspace", "export", "lab", "-o", exported, "--data-dir", data).stdout.startswith("exported")
    document = json.loads(exported.read_text())
    assert document["format"] == "imjoy-workspace" and document["plugins"][0]["name"] == "Keeper"
    result = imjoy("workspace", "import", exported, "--name", "lab-copy", "--data-dir", data)
    assert result.stdout == "imported workspace lab-copy (1 plugins, 1 workflows)\n"
    refused = imjoy("workspace", "delete", "lab", "--data-dir", data, check=False)
    assert refused.returncode == 64 and "add --yes to confirm" in refused.stderr
    assert imjoy("workspace", "delete", "lab", "--yes", "--data-dir", data).stdout == "deleted workspace lab\n"

    async def check():
        client, plugins = await owner_with_plugins(engine, "lab-copy")
        assert [p["name"] for p in await plugins.list()] == ["Keeper"]
        assert await plugins.get_config("Keeper", "threshold") == 0.25
        assert (await plugins.load_workflow("flow"))["steps"] == [{"plugin": "Keeper"}]
        assert await plugins.get_layout() == {"windows": ["a"]}
        names = [w["name"] for w in await client.list_workspaces()]
        assert "lab" not in names and "lab-copy" in names
        await client.disconnect()

    run(check())


def test_imjoy_token_issues_lists_and_revokes_scoped_tokens(fresh_engine, tmp_path):
    data = tmp_path / "data"
    engine = fresh_engine(data)
    token = imjoy("token", "--permission", "read", "--label", "viewer", "--data-dir", data).stdout.strip()
    listing = imjoy("token", "--list", "--data-dir", data).stdout
    assert "read  active" in listing and "viewer" in listing
    token_id = listing.split()[0]

    async def connect_ok():
        client = await connect_to_server({"server_url": engine.url, "token": token})
        assert client.config.workspace == "default"
        await client.disconnect()

    run(connect_ok())
    assert imjoy("token", "--revoke", token_id, "--data-dir", data).stdout.startswith(f"revoked {token_id}")

    async def connect_refused():
        try:
            await connect_to_server({"server_url": engine.url, "token": token})
        except Exception as error:
            return str(error)
        return "connected"

    assert "the token was revoked" in run(connect_refused())
    assert imjoy("token", "--admin", "--data-dir", data).stdout.strip() == engine.admin_token
