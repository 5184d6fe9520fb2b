"""Authentication (tokens) and workspace isolation."""

import asyncio

import pytest

from helpers import scenario, service_ids, uid


def tamper(token: str) -> str:
    """Change two characters that carry real bits (for a JWT: one in the payload, one in the
    signature, away from the last base64 char whose low bits may be padding)."""
    chars = list(token)
    for pos in (len(chars) // 2, len(chars) - 8):
        if chars[pos] == ".":
            pos += 1
        chars[pos] = "A" if chars[pos] != "A" else "B"
    out = "".join(chars)
    assert out != token
    return out


async def expect_refused(p, **config) -> str:
    with pytest.raises(ConnectionAbortedError) as ei:
        await p.connect(**config)
    return str(ei.value)


@scenario()
async def test_garbage_token_is_refused_with_reason(p):
    for bad in ("garbage", "eyJhbGciOiJIUzI1NiJ9.e30.AAAA"):
        msg = await expect_refused(p, token=bad)
        assert "Authentication error" in msg, msg
        assert len(msg.split("Authentication error", 1)[1].strip(" :")) > 3, f"no reason given: {msg!r}"


@scenario()
async def test_forged_token_is_refused(p):
    owner = await p.connect()
    token = await owner.generate_token()
    assert isinstance(token, str) and len(token) >= 16
    msg = await expect_refused(p, token=tamper(token), workspace=owner.config.workspace)
    assert "Authentication error" in msg, msg
    msg = await expect_refused(p, token=tamper(token))
    assert "Authentication error" in msg, msg


@scenario()
async def test_expired_token_is_refused(p):
    owner = await p.connect()
    token = await owner.generate_token({"expires_in": 1})
    await asyncio.sleep(2.2)
    msg = await expect_refused(p, token=token, workspace=owner.config.workspace)
    assert "Authentication error" in msg, msg


@scenario()
async def test_token_joins_workspace_and_calls_protected_service(p):
    owner = await p.connect(client_id=uid("owner"))
    ws = owner.config.workspace

    def whoami(context=None):
        return {"from": context["from"], "ws": context["ws"], "user": context["user"]["id"]}

    # default visibility = protected
    await owner.register_service({"id": "secret", "config": {"require_context": True},
                                  "whoami": whoami, "value": lambda context=None: 42})
    token = await owner.generate_token()
    guest_id = uid("guest")
    guest = await p.connect(client_id=guest_id, workspace=ws, token=token)
    assert guest.config.workspace == ws
    for query in ("secret", f"{ws}/secret", f"{ws}/{owner.config.client_id}:secret"):
        svc = await guest.get_service(query)
        assert await svc.value() == 42
    me = await svc.whoami()
    assert me["from"] == f"{ws}/{guest_id}"
    assert me["ws"] == ws
    assert me["user"] == guest.config.user["id"]
    # a member of the workspace sees the protected service in list_services
    assert f"{ws}/{owner.config.client_id}:secret" in await service_ids(guest)


@scenario()
async def test_workspace_not_permitted_is_refused(p):
    owner = await p.connect()
    # anonymous (no token) asking for somebody else's workspace
    msg = await expect_refused(p, workspace=owner.config.workspace)
    assert msg.strip(), "refusal without a message"
    # a token for workspace A does not open workspace B
    token = await owner.generate_token()
    other = await p.connect()
    msg = await expect_refused(p, workspace=other.config.workspace, token=token)
    assert msg.strip()


@scenario()
async def test_reconnection_token_is_bound_to_client_id(p):
    first = await p.raw(client_id=uid("rt-a"))
    rtoken = first.info.get("reconnection_token")
    assert rtoken, "connection_info must carry a reconnection_token"
    err = await p.raw(client_id=uid("rt-b"), reconnection_token=rtoken, expect_error=True)
    assert isinstance(err, dict) and err.get("type") == "error", err
    assert err.get("message"), err


@scenario()
async def test_workspace_isolation(p):
    owner = await p.connect(client_id=uid("iso"))
    ws, cid = owner.config.workspace, owner.config.client_id
    await owner.register_service({"id": "priv", "f": lambda: "private"})  # protected by default
    await owner.register_service({"id": "pub", "config": {"visibility": "public"}, "f": lambda: "public"})
    outsider = await p.connect()
    assert outsider.config.workspace != ws
    for query in (f"{ws}/priv", f"{ws}/{cid}:priv"):
        with pytest.raises(Exception) as ei:
            await outsider.get_service(query)
        assert "permission" in str(ei.value).lower(), str(ei.value)
    assert await (await outsider.get_service(f"{ws}/pub")).f() == "public"
    seen_outside = await service_ids(outsider, {"workspace": ws})
    assert f"{ws}/{cid}:pub" in seen_outside
    assert f"{ws}/{cid}:priv" not in seen_outside
    seen_inside = await service_ids(owner)
    assert f"{ws}/{cid}:priv" in seen_inside and f"{ws}/{cid}:pub" in seen_inside
    # the outsider's own listing does not leak the other workspace either
    assert not [s for s in await service_ids(outsider) if s.startswith(ws + "/")]
