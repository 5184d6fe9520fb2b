"""Workspace-manager methods and workspace events."""

import asyncio

from helpers import scenario, uid, wait_until


async def workspace_members(p, n: int):
    """An owner plus n-1 more clients joined to its workspace with a generated token."""
    owner = await p.connect(client_id=uid("member"))
    ws = owner.config.workspace
    token = await owner.generate_token()
    members = [owner]
    for _ in range(n - 1):
        members.append(await p.connect(client_id=uid("member"), workspace=ws, token=token))
    return ws, members


@scenario()
async def test_echo(p):
    c = await p.connect()
    payload = {"text": "héllo ✓", "int": -(2**40), "float": 1.5, "none": None, "bool": True,
               "list": [1, [2, [3, {"deep": "yes"}]]], "bytes": b"\x00\xff\x10" * 100}
    got = await c.echo(payload)
    assert got["text"] == payload["text"]
    assert got["int"] == payload["int"] and got["float"] == 1.5
    assert got["none"] is None and got["bool"] is True
    assert got["list"][1][1][1]["deep"] == "yes"
    assert got["bytes"] == payload["bytes"]
    assert await c.echo("plain") == "plain"


@scenario()
async def test_log(p):
    c = await p.connect()
    assert await c.log("hello from the conformance suite") is None
    assert await c.echo(1) == 1  # still usable


@scenario()
async def test_list_clients(p):
    ws, members = await workspace_members(p, 2)
    outsider = await p.connect()
    expected = {f"{ws}/{m.config.client_id}" for m in members}
    listed = {c["id"] for c in await members[1].list_clients()}
    assert expected <= listed, (expected, listed)
    assert f"{outsider.config.workspace}/{outsider.config.client_id}" not in listed
    await members[1].disconnect()
    await wait_until(lambda: _listed_without(members[0], f"{ws}/{members[1].config.client_id}"), 5,
                     what="a disconnected client to leave list_clients")


async def _listed_without(client, address):
    return address not in {c["id"] for c in await client.list_clients()}


@scenario()
async def test_generate_token(p):
    owner = await p.connect()
    token = await owner.generate_token()
    assert isinstance(token, str) and token
    token2 = await owner.generate_token({"expires_in": 600})
    assert isinstance(token2, str) and token2
    guest = await p.connect(workspace=owner.config.workspace, token=token2)
    assert guest.config.workspace == owner.config.workspace


@scenario()
async def test_subscribe_unsubscribe_custom_event(p):
    ws, (sender, listener) = await workspace_members(p, 2)
    stranger = await p.connect()  # another workspace, subscribed to the same event name
    got, stranger_got = [], []
    listener.on("conformance-event", lambda msg: got.append(msg))
    stranger.on("conformance-event", lambda msg: stranger_got.append(msg))
    assert await listener.subscribe("conformance-event") in (True, None)
    await stranger.subscribe(["conformance-event"])

    await sender.emit({"type": "conformance-event", "to": "*", "data": {"n": 1}})
    await wait_until(lambda: got, 5, what="the subscribed listener to receive the event")
    assert got[0]["data"]["n"] == 1
    assert got[0]["from"] == f"{ws}/{sender.config.client_id}", got[0]
    await asyncio.sleep(0.5)
    assert len(got) == 1
    assert stranger_got == [], "event leaked into another workspace"

    await listener.unsubscribe("conformance-event")
    await sender.emit({"type": "conformance-event", "to": "*", "data": {"n": 2}})
    await asyncio.sleep(1.0)
    assert [m["data"]["n"] for m in got] == [1], "received an event after unsubscribe"
    assert stranger_got == []


@scenario()
async def test_client_disconnected_event(p):
    ws, (watcher, leaver) = await workspace_members(p, 2)
    stranger = await p.connect()
    events, stranger_events = [], []
    watcher.on("client_disconnected", lambda msg: events.append(msg))
    stranger.on("client_disconnected", lambda msg: stranger_events.append(msg))
    leaver_id = leaver.config.client_id
    await leaver.disconnect()
    await wait_until(lambda: [e for e in events if e["data"]["id"] == leaver_id], 5,
                     what="client_disconnected for the leaving client")
    ev = [e for e in events if e["data"]["id"] == leaver_id][0]
    assert ev["data"]["workspace"] == ws
    await asyncio.sleep(0.5)
    assert not [e for e in stranger_events if e.get("data", {}).get("id") == leaver_id]
