"""Bad input on raw websocket connections. Each test also runs a healthy hypha-rpc
provider/consumer pair that must keep working afterwards: one bad connection may at most lose
itself, never the server or other clients."""

import asyncio
import os
import random

import msgpack
import pytest

from helpers import scenario, uid

MIB = 1024 * 1024


async def healthy_pair(p):
    """Provider + consumer (different workspaces); returns an async check that they still work."""
    prov = await p.connect(client_id=uid("healthy"))
    await prov.register_service({"id": "h", "config": {"visibility": "public"}, "add": lambda a, b: a + b})
    cons = await p.connect()
    full_id = f"{prov.config.workspace}/{prov.config.client_id}:h"
    svc = await cons.get_service(full_id)
    assert await svc.add(1, 2) == 3

    async def still_healthy():
        assert await asyncio.wait_for(svc.add(2, 3), 10) == 5
        fresh = await cons.get_service(full_id)
        assert await asyncio.wait_for(fresh.add(3, 4), 10) == 7
        newcomer = await p.connect()
        assert await newcomer.echo("still serving") == "still serving"

    return prov, still_healthy


def frame(main: dict, extra: dict | None = None) -> bytes:
    data = msgpack.packb(main)
    if extra is not None:
        data += msgpack.packb(extra)
    return data


def promise_to(address: str, session: str) -> dict:
    """Explicit promise form that sends the answer to `address` whatever `from` says."""
    out = {k: {"_rtype": "method", "_rtarget": address, "_rmethod": f"{session}.{k}", "_rpromise": False}
           for k in ("resolve", "reject", "heartbeat")}
    out["interval"] = 15.0
    return out


def is_error_text(kind, value) -> bool:
    return kind == "text" and isinstance(value, dict) and value.get("type") == "error"


# ---------------------------------------------------------------------------------------------


@scenario()
async def test_garbage_binary_frames(p):
    _, still_healthy = await healthy_pair(p)
    raw = await p.raw()
    rnd = random.Random(1234)
    garbage = [
        b"\xc1",                             # never-used msgpack byte
        b"\x05",                             # valid msgpack, but main is not a map
        msgpack.packb([1, 2, 3]),            # an array as main
        msgpack.packb({"to": 5, "type": 7}),  # wrong field types
        msgpack.packb({1: 2}),               # non-string key
        msgpack.packb({"type": "method", "to": ["x"], "method": {}, "session": 1}),
        bytes(rnd.getrandbits(8) for _ in range(4096)),
        b"",
    ]
    for g in garbage:
        try:
            await raw.send(g)
        except Exception:  # noqa: BLE001 - the server may close this connection: allowed
            break
    assert await raw.is_closed_or_answers_ping() in ("closed", "alive")
    await still_healthy()


@scenario()
async def test_truncated_msgpack(p):
    _, still_healthy = await healthy_pair(p)
    raw = await p.raw()
    full = frame({"type": "method", "to": f"{raw.workspace}/nobody", "method": "services.x.y",
                  "session": "truncsess"}, {"args": [1, 2, "three"], "promise": "*"})
    main_len = len(msgpack.packb({"type": "method", "to": f"{raw.workspace}/nobody",
                                  "method": "services.x.y", "session": "truncsess"}))
    for cut in (1, main_len // 2, main_len - 1):
        try:
            await raw.send(full[:cut])
        except Exception:  # noqa: BLE001
            break
    assert await raw.is_closed_or_answers_ping() in ("closed", "alive")
    await still_healthy()


@scenario()
async def test_header_without_to(p):
    _, still_healthy = await healthy_pair(p)
    # with a session: a <session>.reject, an error text frame, or closing this connection
    raw = await p.raw()
    await raw.send(frame({"type": "method", "method": "services.x.y", "session": "nosess1"},
                         {"args": [], "promise": "*"}))
    res = await raw.outcome(5, lambda k, v: is_error_text(k, v) or (
        k == "binary" and isinstance(v, dict) and v.get("method") == "nosess1.reject"))
    assert res[0] in ("text", "binary", "closed"), f"no reject/error/close for a header without 'to': {res}"
    # without a session: anything but breaking others
    raw2 = await p.raw()
    await raw2.send(frame({"type": "method", "method": "services.x.y"}))
    assert await raw2.is_closed_or_answers_ping() in ("closed", "alive")
    await still_healthy()


@pytest.mark.imjoy_only(reason="Hypha 0.21.137 silently drops a header without to/session; ours answers")
@scenario()
async def test_header_without_to_and_session_gets_error(p):
    _, still_healthy = await healthy_pair(p)
    raw = await p.raw()
    await raw.send(frame({"type": "method", "method": "services.x.y"}))
    res = await raw.outcome(5, lambda k, v: is_error_text(k, v))
    assert res[0] in ("text", "closed"), f"expected an error text frame or a close, got {res}"
    await still_healthy()


@scenario()
async def test_spoofed_from_is_overwritten(p):
    prov, raw, secret_calls, still_healthy = await _spoof_setup(p)
    pws, pcid = prov.config.workspace, prov.config.client_id
    victim = f"{pws}/{uid('victim')}"  # pretends to be a member of the provider's workspace
    target = f"{pws}/{pcid}"

    # public service: the provider must see the real sender; promise "*" answers to `from`, so
    # the reply only reaches us if the server wrote our real address into `from`
    await raw.send(frame({"type": "method", "from": victim, "to": target, "method": "services.who.whoami",
                          "session": "spoof1", "ws": pws, "user": {"id": "root"}},
                         {"args": [], "promise": "*", "t": 15.0}))
    reply = await raw.wait_session_reply("spoof1", 5)
    assert reply is not None, "no answer: the server did not rewrite 'from' to the real sender"
    assert reply["method"] == "spoof1.resolve", reply
    seen = reply["args"][0]
    assert seen["from"] == raw.address, seen
    assert seen["ws"] == raw.workspace, seen
    assert seen["user"] == raw.info["user"]["id"], seen

    # protected service: a spoofed workspace member must be refused
    await raw.send(frame({"type": "method", "from": victim, "to": target, "method": "services.vault.secret",
                          "session": "spoof2", "ws": pws},
                         {"args": [], "promise": promise_to(raw.address, "spoof2"), "t": 15.0}))
    reply = await raw.wait_session_reply("spoof2", 5)
    assert reply is None or reply["method"] == "spoof2.reject", reply
    assert secret_calls == [], "a protected function ran for a caller from another workspace"
    await still_healthy()


@pytest.mark.parametrize("content", ["random", "zeros"])
@scenario(timeout=40)
async def test_frame_over_16_mib_closes_only_that_connection(p, content):
    _, still_healthy = await healthy_pair(p)
    # 15 MiB is under the limit: accepted (dropped: unknown target, no session), connection stays
    ok = await p.raw()
    await ok.send(frame({"type": "method", "to": f"{ok.workspace}/nobody", "method": "x.y"})
                  + os.urandom(15 * MIB))
    assert await ok.ping_pong(10), "a 15 MiB frame must be accepted"
    # 17 MiB: this connection is closed with 1009 (compressible zeros must not sneak through
    # permessage-deflate either)
    big = await p.raw()
    payload = os.urandom(17 * MIB) if content == "random" else bytes(17 * MIB)
    try:
        await big.send(payload)
    except Exception:  # noqa: BLE001 - closed while sending: fine
        pass
    res = await big.outcome(10)
    assert res[0] == "closed", f"17 MiB frame did not close the connection: {res}"
    assert res[1] == 1009, f"expected close code 1009 (message too big), got {res}"
    assert await ok.ping_pong(5), "another connection was affected"
    await still_healthy()


DEEP = {
    "arrays": b"\x91" * 100_000 + b"\xc0",
    "maps": b"\x81\xa1a" * 100_000 + b"\xc0",
}


@pytest.mark.parametrize("shape", list(DEEP))
@scenario()
async def test_deeply_nested_header(p, shape):
    _, still_healthy = await healthy_pair(p)
    raw = await p.raw()
    await raw.send(DEEP[shape])
    assert await raw.is_closed_or_answers_ping() in ("closed", "alive")
    await still_healthy()


@pytest.mark.imjoy_only(reason="Hypha 0.21.137 silently ignores undecodable deep nesting; ours errors or closes")
@pytest.mark.parametrize("shape", list(DEEP))
@scenario()
async def test_deeply_nested_header_gets_error_or_close(p, shape):
    _, still_healthy = await healthy_pair(p)
    raw = await p.raw()
    await raw.send(DEEP[shape])
    res = await raw.outcome(5, lambda k, v: is_error_text(k, v))
    assert res[0] in ("text", "closed"), f"expected an error text frame or a close, got {res}"
    await still_healthy()


@scenario()
async def test_unknown_text_frames(p):
    _, still_healthy = await healthy_pair(p)
    raw = await p.raw()
    for text in ('{"type": "nonsense"}', "this is { not json", '{"no_type": 1}', "x" * 5000):
        await raw.send(text)
    # ignored or answered with an error frame, but the connection stays usable
    assert await raw.ping_pong(5), "connection unusable after unknown text frames"
    await still_healthy()


@pytest.mark.imjoy_only(reason="Hypha 0.21.137 drops the connection on JSON text that is not an object")
@scenario()
async def test_non_object_json_text_frames(p):
    _, still_healthy = await healthy_pair(p)
    raw = await p.raw()
    for text in ("[1, 2]", '"str"', "1", "null"):
        await raw.send(text)
    assert await raw.ping_pong(5), "connection unusable after JSON text frames that are not objects"
    await still_healthy()


@pytest.mark.imjoy_only(reason="Hypha 0.21.137 rejects only for recently disconnected peers, not unknown ones")
@scenario()
async def test_call_to_unknown_peer_is_rejected(p):
    raw = await p.raw()
    nobody = f"{raw.workspace}/{uid('nobody')}"
    await raw.send(frame({"type": "method", "to": nobody, "method": "services.x.y", "session": "lost1"},
                         {"args": [], "promise": "*", "t": 15.0}))
    reply = await raw.wait_session_reply("lost1", 3)
    assert reply is not None and reply["method"] == "lost1.reject", reply
    err = reply["args"][0]
    assert err["_rtype"] == "error" and nobody.split("/")[1] in err["_rvalue"], err


# ---------------------------------------------------------------------------------------------
# Hardening beyond PROTOCOL.md. hypha-rpc 0.21.47 (rpc.py _on_message/_handle_method) takes the
# call context from a `ctx` map if the header already has one, and merges the extra segment
# into the header AFTER the server's rewrite, so `from`/`ctx` keys in the extra segment override
# the trusted values (the protected-service check uses that `from`). Hypha 0.21.137 forwards both
# untouched: a client in another workspace can fake its context and call protected functions.
# A server fixes the header case completely by dropping `ctx` from the header; for the extra
# segment it must refuse (or strip) top-level `from`/`to`/`ws`/`user`/`ctx` keys, which needs a
# look into the extra map. This is mitigation only: the same keys hidden in a chunked message
# (message_cache.set/process, opaque bytes to the server) still get through; the real fix
# belongs in hypha-rpc.
# ---------------------------------------------------------------------------------------------


async def _spoof_setup(p):
    prov, still_healthy = await healthy_pair(p)
    calls = []

    def whoami(context=None):
        return {"from": context["from"], "ws": context["ws"], "user": context["user"]["id"]}

    def secret(context=None):
        calls.append(context["from"])
        return "SECRET"

    await prov.register_service({"id": "who", "config": {"visibility": "public", "require_context": True},
                                 "whoami": whoami})
    await prov.register_service({"id": "vault", "config": {"require_context": True}, "secret": secret})
    raw = await p.raw(client_id=uid("spoofer"))
    return prov, raw, calls, still_healthy


@pytest.mark.imjoy_only(reason="hardening: Hypha 0.21.137 forwards a forged ctx map")
@pytest.mark.hardening
@scenario()
async def test_ctx_in_header_is_not_trusted(p):
    prov, raw, _, still_healthy = await _spoof_setup(p)
    pws = prov.config.workspace
    fake_ctx = {"from": f"{pws}/victim", "ws": pws, "user": {"id": "root"}, "to": f"{pws}/x"}
    await raw.send(frame({"type": "method", "to": f"{pws}/{prov.config.client_id}",
                          "method": "services.who.whoami", "session": "ctx1", "ctx": fake_ctx},
                         {"args": [], "promise": promise_to(raw.address, "ctx1"), "t": 15.0}))
    reply = await raw.wait_session_reply("ctx1", 5)
    if reply is not None and reply["method"] == "ctx1.resolve":
        seen = reply["args"][0]
        assert seen["from"] == raw.address and seen["ws"] == raw.workspace, f"fake context used: {seen}"
        assert seen["user"] == raw.info["user"]["id"], f"fake context used: {seen}"
    await still_healthy()


@pytest.mark.imjoy_only(reason="hardening: Hypha 0.21.137 forwards the extra segment untouched")
@pytest.mark.hardening
@pytest.mark.parametrize("key", ["from", "ctx"])
@scenario()
async def test_trusted_keys_in_extra_segment_are_not_trusted(p, key):
    prov, raw, calls, still_healthy = await _spoof_setup(p)
    pws = prov.config.workspace
    fake = f"{pws}/victim" if key == "from" else {"from": f"{pws}/victim", "ws": pws, "user": {"id": "root"}}
    target = f"{pws}/{prov.config.client_id}"
    await raw.send(frame({"type": "method", "to": target, "method": "services.vault.secret", "session": "x1"},
                         {"args": [], "promise": promise_to(raw.address, "x1"), "t": 15.0, key: fake}))
    reply = await raw.wait_session_reply("x1", 5)
    assert calls == [], f"protected function ran for an outsider (spoofed '{key}' in the extra segment)"
    assert reply is None or reply["method"] == "x1.reject", reply
    await raw.send(frame({"type": "method", "to": target, "method": "services.who.whoami", "session": "x2"},
                         {"args": [], "promise": promise_to(raw.address, "x2"), "t": 15.0, key: fake}))
    reply = await raw.wait_session_reply("x2", 5)
    if reply is not None and reply["method"] == "x2.resolve":
        seen = reply["args"][0]
        assert seen["from"] == raw.address and seen["user"] == raw.info["user"]["id"], f"spoofed: {seen}"
    await still_healthy()
