"""Connection lifecycle: dead peers, disconnect clean-up, reconnection, keep-alive, shutdown."""

import asyncio
import json
import signal
import time

import pytest
from websockets.protocol import State

from helpers import Peers, ProviderProcess, scenario, service_ids, uid, wait_until


# ---------------------------------------------------------------------------------------------
# A provider that dies
# ---------------------------------------------------------------------------------------------


async def _dead_peer_scenario(p, same_workspace: bool):
    provider = ProviderProcess(p.url, uid("doomed"))
    try:
        await provider.ready()
        ws, cid = provider.workspace, provider.client_id
        if same_workspace:
            caller = await p.connect(workspace=ws, token=provider.token)
            assert caller.config.workspace == ws
        else:
            caller = await p.connect()
            assert caller.config.workspace != ws
        full_id = f"{ws}/{cid}:slow"
        svc = await caller.get_service(full_id)
        assert await svc.ping() == "pong"
        start = len(provider.reader.lines)
        pending = asyncio.ensure_future(svc.sleep(60))
        assert await provider.reader.await_for(r"^CALLED", 10, start), "the call never reached the provider"
        await asyncio.sleep(0.2)
        assert not pending.done()
        t0 = time.monotonic()
        provider.kill()  # SIGKILL: no goodbye, the socket just dies
        try:
            await asyncio.wait_for(asyncio.shield(pending), 5)
        except asyncio.TimeoutError:
            pending.cancel()
            raise AssertionError("a call pending on a killed provider was still pending 5 s later")
        except Exception as exc:  # noqa: BLE001 - this is the expected path
            elapsed = time.monotonic() - t0
            text = str(exc)
        else:
            raise AssertionError("the pending call returned a result although its provider was killed")
        assert elapsed < 1.0, f"pending call failed only after {elapsed:.2f}s (must be < 1 s): {text}"
        assert cid in text, f"the error does not name the peer {cid}: {text!r}"

        # its services are gone
        query = {"workspace": ws}
        await wait_until(lambda: _absent(caller, query, full_id), 3,
                         what="the dead provider's service to leave list_services")
        with pytest.raises(Exception):
            await caller.get_service(full_id)
        # a new call through the old proxy fails too (and does not hang)
        with pytest.raises(Exception):
            await asyncio.wait_for(svc.ping(), 12)
    finally:
        provider.kill()


async def _absent(client, query, full_id):
    return full_id not in await service_ids(client, query)


@scenario(timeout=45)
async def test_dead_provider_same_workspace(p):
    await _dead_peer_scenario(p, same_workspace=True)


@pytest.mark.imjoy_only(reason="PROTOCOL.md §8: Hypha leaves a caller in another workspace waiting ~30 s")
@scenario(timeout=45)
async def test_dead_provider_other_workspace(p):
    await _dead_peer_scenario(p, same_workspace=False)


@scenario()
async def test_disconnect_removes_services(p):
    prov = await p.connect(client_id=uid("leaving"))
    ws, cid = prov.config.workspace, prov.config.client_id
    token = await prov.generate_token()
    await prov.register_service({"id": "gone", "config": {"visibility": "public"}, "f": lambda: 1})
    inside = await p.connect(workspace=ws, token=token)
    outside = await p.connect()
    full_id = f"{ws}/{cid}:gone"
    assert full_id in await service_ids(inside)
    assert full_id in await service_ids(outside, {"workspace": ws})
    await prov.disconnect()
    await wait_until(lambda: _absent(inside, {"workspace": ws}, full_id), 3,
                     what="service removal after disconnect")
    assert full_id not in await service_ids(outside, {"workspace": ws})
    assert not [s for s in await service_ids(inside) if s.startswith(f"{ws}/{cid}:")]
    for client in (inside, outside):
        with pytest.raises(Exception):
            await client.get_service(full_id)


# ---------------------------------------------------------------------------------------------
# Reconnection
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["close-1001", "abort-tcp"])
@scenario(timeout=40)
async def test_reconnection_keeps_workspace_and_client_id(p, how):
    prov = await p.connect(client_id=uid("phoenix"))
    ws, cid = prov.config.workspace, prov.config.client_id
    await prov.register_service({"id": "rc", "config": {"visibility": "public"}, "hello": lambda: "hi"})
    cons = await p.connect()
    full_id = f"{ws}/{cid}:rc"
    old_proxy = await cons.get_service(full_id)
    assert await old_proxy.hello() == "hi"

    conn = prov.rpc._connection  # hypha_rpc.websocket_client.WebsocketRPCConnection
    old_socket = conn._websocket
    if how == "close-1001":
        await old_socket.close(1001)  # any close the client did not ask for -> it reconnects
    else:
        old_socket.transport.abort()  # the TCP connection just dies
    await wait_until(lambda: old_socket.state == State.CLOSED, 5, what="the old socket to close")
    await wait_until(lambda: conn._websocket is not old_socket and conn._websocket is not None
                     and conn._websocket.state == State.OPEN and conn._reconnected_event is None,
                     20, interval=0.1, what="the client to reconnect")
    info = conn.connection_info
    assert info["workspace"] == ws, "reconnected into another workspace"
    assert info.get("client_id", cid) == cid

    async def callable_again():
        svc = await cons.get_service(full_id)
        return await svc.hello() == "hi"

    await wait_until(callable_again, 10, interval=0.2, what="the service to be callable after reconnection")
    assert await old_proxy.hello() == "hi"
    assert await prov.echo("still talking to the manager") == "still talking to the manager"
    assert full_id in await service_ids(cons, {"workspace": ws})


# ---------------------------------------------------------------------------------------------
# Client-id conflicts
# ---------------------------------------------------------------------------------------------


async def _conflict(p):
    original = await p.connect(client_id=uid("unique"))
    ws, cid = original.config.workspace, original.config.client_id
    await original.register_service({"id": "orig", "config": {"visibility": "public"}, "f": lambda: "orig"})
    token = await original.generate_token()
    with pytest.raises(ConnectionAbortedError) as ei:
        await p.connect(client_id=cid, workspace=ws, token=token)
    assert ei.value.args and str(ei.value).strip()
    return original, ws, cid


@scenario()
async def test_duplicate_client_id_is_refused(p):
    await _conflict(p)


@pytest.mark.imjoy_only(reason="PROTOCOL.md §8: after refusing, Hypha tears down the live original")
@scenario()
async def test_duplicate_client_id_leaves_original_intact(p):
    original, ws, cid = await _conflict(p)
    await asyncio.sleep(1.0)
    assert original.rpc._connection._websocket.state == State.OPEN
    assert await original.echo("alive") == "alive"
    other = await p.connect()
    assert await (await other.get_service(f"{ws}/{cid}:orig")).f() == "orig"


# ---------------------------------------------------------------------------------------------
# Text control frames
# ---------------------------------------------------------------------------------------------


@scenario()
async def test_text_ping_and_refresh_token(p):
    raw = await p.raw(client_id=uid("ctl"))
    info = raw.info
    for key in ("workspace", "manager_id", "client_id", "public_base_url", "reconnection_token", "user"):
        assert info.get(key), f"connection_info lacks {key}: {info}"
    assert info["client_id"] == raw.client_id
    assert await raw.ping_pong(5)
    await raw.send(json.dumps({"type": "refresh_token"}))
    res = await raw.outcome(5, lambda k, v: k == "text" and isinstance(v, dict)
                            and v.get("type") == "reconnection_token")
    assert res[0] == "text" and res[1].get("reconnection_token"), res
    # the refreshed token works for a reconnection of the same client id
    await raw.ws.close()
    again = await p.raw(client_id=raw.client_id, reconnection_token=res[1]["reconnection_token"])
    assert again.workspace == raw.workspace


# ---------------------------------------------------------------------------------------------
# Graceful shutdown of our server (needs our own process)
# ---------------------------------------------------------------------------------------------


@pytest.mark.imjoy_only(reason="stops the server process: needs our own")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_graceful_shutdown(fresh_server, sig):
    async def main():
        peers = Peers(fresh_server.url)
        try:
            client = await peers.connect(client_id=uid("bystander"))
            await client.register_service({"id": "s", "f": lambda: 1})
            raw = await peers.raw()
            assert await raw.ping_pong(5)
            t0 = time.monotonic()
            fresh_server.proc.send_signal(sig)
            while fresh_server.proc.poll() is None and time.monotonic() - t0 < 5:
                await asyncio.sleep(0.05)
            return time.monotonic() - t0
        finally:
            await peers.close()

    elapsed = asyncio.run(asyncio.wait_for(main(), 40))
    code = fresh_server.proc.poll()
    assert code is not None, f"server still running {elapsed:.1f}s after {sig.name}"
    assert code == 0, f"server exited with code {code} after {sig.name}:\n{fresh_server.reader.tail()}"
