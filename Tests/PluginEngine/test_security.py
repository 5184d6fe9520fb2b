"""Access control: each security case of the workspaces issue is one test against a real `imjoy serve`."""
import asyncio
import base64
import json
import socket
import subprocess
import time

import pytest
from hypha_rpc import connect_to_server

from conftest import binary, owner, run, source






async def refused(engine, **config):
    with pytest.raises(Exception) as error:
        await connect_to_server({"server_url": engine.url, **config})
    return str(error.value)


def test_binding_beyond_loopback_without_token_is_refused_at_start(tmp_path):
    result = subprocess.run(
        [binary(), "serve", "--host", "0.0.0.0", "--anonymous", "allow", "--port", "0", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=30)
    assert result.returncode == 64
    assert "--host 0.0.0.0 with --anonymous allow would let anyone who can reach this machine run code" in result.stderr
    assert not (tmp_path / "imjoy.sqlite").exists(), "the engine started before refusing"


def test_an_engine_that_refuses_anonymous_clients_admits_only_tokens(fresh_engine):
    engine = fresh_engine(None, "--anonymous", "refuse")

    async def body():
        message = await refused(engine)
        assert "this engine admits only clients with a token" in message
        client = await owner(engine)
        assert client.config.workspace == "default"
        await client.disconnect()

    run(body())
    assert any("?token=" in line for line in engine.lines), "the admin URL was not printed"


def test_expired_forged_and_wrong_workspace_tokens_are_rejected_with_reasons(fresh_engine):
    engine = fresh_engine()

    async def body():
        client = await owner(engine)
        await client.create_workspace({"name": "other"})
        short = await client.generate_token({"expires_in": 1})
        good = await client.generate_token({"permission": "read_write"})
        await client.disconnect()
        await asyncio.sleep(2.1)
        assert "the token has expired" in await refused(engine, token=short)
        header, payload, signature = good.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["scope"] = "ws:*#a"
        forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        assert "the token's signature is invalid" in await refused(engine, token=f"{header}.{forged_payload}.{signature}")
        assert "the token is malformed" in await refused(engine, token="not-a-token")
        message = await refused(engine, token=good, workspace="other")
        assert "the token is for workspace default, not other" in message
        # The admin token is compared as a whole: a prefix of it is just a wrong token.
        assert "the token is malformed" in await refused(engine, token=engine.admin_token[:-1])

    run(body())
    failures = engine.log_matching("Authentication failed")
    assert failures and not any(engine.admin_token[:-1] in line for line in failures), "tokens must not be logged"


def test_a_revoked_token_disconnects_its_holders_and_is_refused_after(fresh_engine):
    engine = fresh_engine()

    async def body():
        client = await owner(engine)
        token = await client.generate_token({"label": "guest"})
        guest = await connect_to_server({"server_url": engine.url, "token": token})
        guest_address = f"default/{guest.config.client_id}"
        assert guest_address in [c["id"] for c in await client.list_clients()]
        answer = await client.revoke_token(token)
        assert answer["disconnected"] == 1
        await asyncio.sleep(1)
        assert guest_address not in [c["id"] for c in await client.list_clients()]
        assert "the token was revoked" in await refused(engine, token=token)
        await client.disconnect()

    run(body())


def test_a_read_only_token_cannot_install_or_register(fresh_engine):
    engine = fresh_engine()

    async def body():
        client = await owner(engine)
        token = await client.generate_token({"permission": "read"})
        reader = await connect_to_server({"server_url": engine.url, "token": token})
        plugins = await reader.get_service("public/plugin-engine")
        with pytest.raises(Exception) as install:
            await plugins.install(source("Nope", "from imjoy import api\napi.export({})"))
        assert "needs read_write permission, and this connection has read" in str(install.value)
        assert "ask the workspace's owner for a read_write token" in str(install.value)
        with pytest.raises(Exception) as register:
            await reader.register_service({"id": "sneaky", "hello": lambda: "hi"})
        assert "registering services in default needs read_write permission (this connection has read)" in str(
            register.value)
        assert await plugins.list() == []  # reading is allowed
        await reader.disconnect()
        await client.disconnect()

    run(body())


PROBE = '''
from imjoy import api
import os

class ImJoyPlugin:
    async def probe(self, target):
        from hypha_rpc import connect_to_server
        results = {}
        server = api._server
        try:
            await server.get_service(target)
            results["get_service"] = "allowed"
        except Exception as error:
            results["get_service"] = str(error)
        try:
            await server.list_clients("default")
            results["list_clients"] = "allowed"
        except Exception as error:
            results["list_clients"] = str(error)
        try:
            await connect_to_server({"server_url": os.environ["IMJOY_SERVER_URL"], "token": os.environ["IMJOY_TOKEN"],
                                     "client_id": os.environ["IMJOY_CLIENT_ID"], "workspace": "default"})
            results["join_default"] = "allowed"
        except Exception as error:
            results["join_default"] = str(error)
        return results

api.export(ImJoyPlugin())
'''


def test_a_plugin_token_cannot_reach_another_workspaces_protected_services(fresh_engine):
    engine = fresh_engine()

    async def body():
        home = await owner(engine)
        await home.register_service({"id": "secret", "config": {"visibility": "protected"}, "read": lambda: 42})
        target = f"default/{home.config.client_id}:secret"
        await home.create_workspace({"name": "lab"})
        lab = await owner(engine, "lab")
        plugins = await lab.get_service("public/plugin-engine")
        api = await plugins.start(source("Prober", PROBE))
        results = await api.probe(target)
        assert results["get_service"].count("Permission denied for non-public service in workspace default") == 1
        assert "listing the clients of default needs read permission" in results["list_clients"]
        assert "the token is for workspace lab, not default" in results["join_default"]
        await plugins.stop("Prober")
        await lab.disconnect()
        await home.disconnect()

    run(body())


def raw_get(url, path):
    host, port = url.replace("http://", "").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode(errors="replace")


def test_path_traversal_in_the_file_route_is_refused(fresh_engine):
    engine = fresh_engine()
    status, body = raw_get(engine.url, "/plugins/manifest.imjoy.json")
    assert status == 200 and "Python Hello" in body
    for path in ["/plugins/../Package.swift", "/plugins/..%2fPackage.swift", "/plugins/%2e%2e/Package.swift",
                 "/plugins/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "/plugins/..%5cPackage.swift", "/plugins/.hidden",
                 "/plugins/%00manifest.imjoy.json", "/plugins//etc/passwd", "/plugins/../../../../etc/passwd",
                 "/..%2fPackage.swift", "/%2e%2e/Package.swift", "/app/..%2f..%2fPackage.swift", "/.git/config",
                 "/lib/%2e%2e/%2e%2e/Package.swift"]:
        status, body = raw_get(engine.url, path)
        assert status in (400, 403, 404), (path, status)
        assert "swift-tools-version" not in body and "root:" not in body, path


def test_failed_authentications_are_rate_limited_per_host(fresh_engine):
    engine = fresh_engine()

    async def body():
        for _ in range(20):
            assert "the token is malformed" in await refused(engine, token="guess")
        message = await refused(engine, token=engine.admin_token)
        assert "too many failed authentications from 127.0.0.1; wait" in message

    run(body())
