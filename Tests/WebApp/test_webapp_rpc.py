"""RPC between the browser client and hypha-rpc (Python) peers through the engine."""

import asyncio
import hashlib
import time

import numpy as np
import pytest
from hypha_rpc.rpc import RemoteException

CONNECT = "const { connectToServer, NDArray } = await import('/lib/hypha.js');\n"

# Make the page's first client reachable as window.server (kept between js() calls of a test).
CONNECT_WINDOW = CONNECT + """
window.server = await connectToServer({ server_url: args[0], token: args[1] || undefined,
                                        workspace: args[1] ? "default" : undefined });
"""


def test_echo_nested_data_bytes_and_float32(js, engine):
    out = js(CONNECT + """
        const server = await connectToServer({ server_url: args[0] });
        const value = {
            text: "grüße ✓", n: 42, neg: -7, f: 0.1, big: 2n ** 60n, yes: true, nil: null,
            nested: { list: [1, [2, [3, {}]], []], empty: {} },
            bytes: new Uint8Array([0, 1, 2, 254, 255]),
            arr: new Float32Array([1.5, -2.25, 3]),
            grid: new NDArray(new Int32Array([1, 2, 3, 4, 5, 6]), [2, 3]),
        };
        const r = await server.echo(value);
        await server.disconnect();
        return {
            text: r.text, n: r.n, neg: r.neg, f: r.f, big: typeof r.big === "bigint" ? r.big.toString() : r.big,
            yes: r.yes, nil: r.nil, nested: r.nested,
            bytesIsU8: r.bytes instanceof Uint8Array, bytes: Array.from(r.bytes),
            arrIsND: r.arr instanceof NDArray, arrDtype: r.arr.dtype, arrShape: r.arr.shape,
            arrIsF32: r.arr.data instanceof Float32Array, arr: Array.from(r.arr.data),
            grid: { dtype: r.grid.dtype, shape: r.grid.shape, data: Array.from(r.grid.data) },
        };
    """, engine.url)
    assert out["text"] == "grüße ✓" and out["n"] == 42 and out["neg"] == -7 and out["f"] == 0.1
    assert out["big"] == str(2 ** 60)
    assert out["yes"] is True and out["nil"] is None
    assert out["nested"] == {"list": [1, [2, [3, {}]], []], "empty": {}}
    assert out["bytesIsU8"] and out["bytes"] == [0, 1, 2, 254, 255]
    assert out["arrIsND"] and out["arrIsF32"]
    assert out["arrDtype"] == "float32" and out["arrShape"] == [3] and out["arr"] == [1.5, -2.25, 3]
    assert out["grid"] == {"dtype": "int32", "shape": [2, 3], "data": [1, 2, 3, 4, 5, 6]}


JS_SERVICE = """
window.calls = [];
window.stored = null;
window.service = await server.registerService({
    id: "js-svc",
    name: "JS test service",
    description: "registered from the browser",
    config: { visibility: "public" },
    double: (arr) => new NDArray(arr.data.map((v) => (typeof v === "bigint" ? v * 2n : v * 2)), arr.shape, arr.dtype),
    apply: async (cb, x) => (await cb(x)) + 1,
    add: (a, b) => a + b,
    sub: (a, b = 0) => a - b,
    describe: (...all) => all.map((v) => (v && v._rkwargs ? "kwargs:" + Object.keys(v).filter((k) => k !== "_rkwargs").sort().join(",") : v)),
    echo: (x) => x,
    size: (b) => b.length,
    fail: () => { throw new Error("boom from js"); },
    store: (iface) => { window.stored = iface; return "stored"; },
    poke: async (v) => await window.stored.on_event(v),
    count: async function* (n) { for (let i = 0; i < n; i++) yield i; },
    nested: { inner: { deep: (x) => "deep:" + x } },
    version: "1.0",
});
window.ctxService = await server.registerService({
    id: "js-ctx",
    config: { visibility: "public", require_context: true },
    whoami: (greeting, context) => ({ greeting, from: context.from, ws: context.ws, user: context.user.id }),
});
return { id: window.service.id, ctx: window.ctxService.id, workspace: server.config.workspace };
"""


def test_python_calls_a_js_service_with_numpy_callbacks_kwargs_and_context(js, engine, py):
    ids = js(CONNECT_WINDOW + JS_SERVICE, engine.url)
    client = py.connect()  # anonymous: another workspace, so only public services are reachable

    async def scenario():
        svc = await client.get_service(ids["id"])
        assert svc.version == "1.0"
        grid = np.arange(6, dtype=np.float32).reshape(2, 3)
        doubled = await svc.double(grid)
        assert isinstance(doubled, np.ndarray) and doubled.dtype == np.float32 and doubled.shape == (2, 3)
        np.testing.assert_array_equal(doubled, grid * 2)
        ints = np.array([[1, -2], [3, 2 ** 40]], dtype=np.int64)
        np.testing.assert_array_equal(await svc.double(ints), ints * 2)

        def times_ten(x):
            return x * 10

        assert await svc.apply(times_ten, 5) == 51
        assert await svc.add(1, b=2) == 3          # kwargs placed by parameter name
        assert await svc.sub(10, b=4) == 6
        assert await svc.describe(1, z=2, y=3) == [1, "kwargs:y,z"]  # no such parameters: kwargs object
        assert await svc.nested.inner.deep("x") == "deep:x"
        assert await svc.echo(b"\x00\xffraw") == b"\x00\xffraw"
        assert await svc.echo({"a": [1, 2.5, None, True, "s"]}) == {"a": [1, 2.5, None, True, "s"]}
        with pytest.raises(RemoteException, match="boom from js"):
            await svc.fail()
        items = [item async for item in await svc.count(4)]
        assert items == [0, 1, 2, 3]
        ctx = await client.get_service(ids["ctx"])
        who = await ctx.whoami("hi")
        assert who["greeting"] == "hi"
        assert who["from"] == f"{client.config.workspace}/{client.config.client_id}"
        assert who["ws"] == client.config.workspace

    py.run(scenario())


def test_python_calls_a_js_rintf_callback_after_the_call_returned(js, engine, py):
    ids = js(CONNECT_WINDOW + JS_SERVICE, engine.url)
    client = py.connect()
    seen = []

    async def scenario():
        svc = await client.get_service(ids["id"])
        # A Python _rintf object handed to JS, kept there and called back later.
        assert await svc.store({"_rintf": True, "on_event": lambda v: seen.append(v) or f"py got {v}"}) == "stored"
        assert await svc.poke("e1") == "py got e1"
        assert await svc.poke("e2") == "py got e2"

    py.run(scenario())
    assert seen == ["e1", "e2"]


PY_SERVICE_CALLS = """
const svc = await server.getService(args[2]);
const res = {};
const s = await svc.scale(new Float32Array([1, 2, 3]));
res.scale = { nd: s instanceof NDArray, dtype: s.dtype, shape: s.shape, data: Array.from(s.data) };
const s3 = await svc.scale(new Float32Array([1, 2]), { k: 3, _rkwargs: true });
res.scale3 = Array.from(s3.data);
const m = await svc.matmul(new NDArray(new Float64Array([1, 2, 3, 4]), [2, 2]));
res.matmul = { dtype: m.dtype, shape: m.shape, data: Array.from(m.data) };
res.callback = await svc.call_back((x) => x + 1, 4);
res.asyncCallback = await svc.call_back(async (x) => { await new Promise((r) => setTimeout(r, 50)); return x * 3; }, 5);
res.kw = await svc.kw(10, { b: 3, _rkwargs: true });
res.bytes = Array.from(await svc.reverse_bytes(new Uint8Array([1, 2, 3])));
res.dict = await svc.info();
res.gen = [];
for await (const item of await svc.gen(3)) res.gen.push(item);
const jsGen = async function* () { yield "a"; yield "b"; };
res.consumed = await svc.consume(jsGen());
res.set = [...(await svc.echo(new Set([1, 2])))].sort();
res.intf = await svc.call_intf({ _rintf: true, hello: (name) => "hello " + name });
return res;
"""


def test_js_calls_a_python_service_with_typed_arrays_and_js_callbacks(js, engine, py):
    client = py.connect()

    async def gen(n):
        for i in range(n):
            yield i * i

    async def consume(agen):
        return [x async for x in agen]

    async def call_back(cb, v):
        return (await cb(v)) * 2

    async def call_intf(intf):
        return await intf.hello("py")

    info = py.run(client.register_service({
        "id": "py-svc",
        "config": {"visibility": "public"},
        "scale": lambda arr, k=2: arr * k,
        "matmul": lambda m: m @ m,
        "call_back": call_back,
        "kw": lambda a, b=0: a - b,
        "reverse_bytes": lambda b: b[::-1],
        "info": lambda: {"numbers": [1, 2.5], "nested": {"ok": True}},
        "gen": gen,
        "consume": consume,
        "echo": lambda x: x,
        "call_intf": call_intf,
    }))
    res = js(CONNECT_WINDOW + PY_SERVICE_CALLS, engine.url, None, info["id"])
    assert res["scale"] == {"nd": True, "dtype": "float32", "shape": [3], "data": [2, 4, 6]}
    assert res["scale3"] == [3, 6]
    assert res["matmul"] == {"dtype": "float64", "shape": [2, 2], "data": [7, 10, 15, 22]}
    assert res["callback"] == 10
    assert res["asyncCallback"] == 30
    assert res["kw"] == 7
    assert res["bytes"] == [3, 2, 1]
    assert res["dict"] == {"numbers": [1, 2.5], "nested": {"ok": True}}
    assert res["gen"] == [0, 1, 4]
    assert res["consumed"] == ["a", "b"]
    assert res["set"] == [1, 2]
    assert res["intf"] == "hello py"


def test_three_mib_each_way_is_chunked_and_arrives_intact(js, engine, py):
    client = py.connect()
    size = 3 * 1024 * 1024
    received = {}

    def take(data):
        received["py"] = hashlib.sha256(data).hexdigest()
        return len(data)

    def make(n):
        return (np.arange(n, dtype=np.uint32) * 2654435761).astype(np.float32)

    info = py.run(client.register_service({
        "id": "big", "config": {"visibility": "public"},
        "take": take, "make": make, "echo": lambda x: x,
    }))
    res = js(CONNECT_WINDOW + """
        const svc = await server.getService(args[2]);
        const n = args[3];
        const data = new Uint8Array(n);
        for (let i = 0; i < n; i += 65536) crypto.getRandomValues(data.subarray(i, Math.min(n, i + 65536)));
        const hex = async (bytes) => Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)))
            .map((b) => b.toString(16).padStart(2, "0")).join("");
        const t0 = performance.now();
        const taken = await svc.take(data);                 // 3 MiB JS → Python
        const back = await svc.echo(data);                  // and back: Python → JS is chunked too
        const arr = await svc.make(n / 4);                  // a 3 MiB float32 array from Python
        const elapsed = performance.now() - t0;
        return { taken, sent: await hex(data), back: await hex(back), backLength: back.length,
                 arr: { dtype: arr.dtype, shape: arr.shape, first: Array.from(arr.data.slice(0, 3)) }, elapsed };
    """, engine.url, None, info["id"], size, timeout=90)
    assert res["taken"] == size
    assert received["py"] == res["sent"] == res["back"]
    assert res["backLength"] == size
    expected = (np.arange(3, dtype=np.uint32) * 2654435761).astype(np.float32)
    assert res["arr"]["dtype"] == "float32" and res["arr"]["shape"] == [size // 4]
    assert res["arr"]["first"] == expected.tolist()

    # Python → JS service → Python: a 3 MiB numpy array as argument and as result.
    ids = js(CONNECT_WINDOW + JS_SERVICE, engine.url)

    async def scenario():
        svc = await client.get_service(ids["id"])
        big = np.random.default_rng(1).random(size // 8)  # float64, 3 MiB
        back = await svc.echo(big)
        np.testing.assert_array_equal(back, big)
        assert await svc.size(bytes(size)) == size

    py.run(scenario(), timeout=90)


def test_a_remote_error_rejects_with_its_message_and_traceback(js, engine, py):
    client = py.connect()

    def fail(x):
        raise ValueError(f"bad input {x}")

    info = py.run(client.register_service({"id": "failing", "config": {"visibility": "public"}, "fail": fail}))
    err = js(CONNECT_WINDOW + """
        const svc = await server.getService(args[2]);
        const out = {};
        try { await svc.fail(42); } catch (e) {
            out.remote = { name: e.name, message: e.message, traceback: e.traceback, isError: e instanceof Error };
        }
        try { await server.getService("no-such-service"); } catch (e) { out.missing = { name: e.name, message: e.message }; }
        return out;
    """, engine.url, None, info["id"])
    assert err["remote"]["isError"] and err["remote"]["name"] == "RemoteError"
    assert "bad input 42" in err["remote"]["message"]
    assert "Traceback" in err["remote"]["traceback"] and "ValueError" in err["remote"]["traceback"]
    assert err["missing"]["name"] == "RemoteError"
    assert "no-such-service" in err["missing"]["message"]


def test_a_pending_call_fails_fast_when_the_provider_disconnects(js, engine, py):
    client = py.connect()
    started = asyncio.Event()

    async def slow():
        started.set()
        await asyncio.sleep(60)
        return "too late"

    info = py.run(client.register_service({"id": "slow", "config": {"visibility": "public"}, "slow": slow}))
    js(CONNECT_WINDOW + """
        const svc = await server.getService(args[2]);
        window.pending = svc.slow().then((v) => ({ value: v }), (e) => ({ name: e.name, message: e.message, at: performance.now() }));
    """, engine.url, None, info["id"])
    py.run(asyncio.wait_for(started.wait(), 10))
    t0 = time.monotonic()
    py.run(client.disconnect())
    res = js("const r = await window.pending; r.now = performance.now(); return r;", timeout=30)
    elapsed = time.monotonic() - t0
    assert "value" not in res, res
    assert elapsed < 5, f"the call took {elapsed:.1f} s to fail"
    assert "disconnected" in res["message"] or "not connected" in res["message"], res


def test_disconnect_fails_pending_calls_at_once(js, engine, py):
    client = py.connect()

    async def slow():
        await asyncio.sleep(60)

    info = py.run(client.register_service({"id": "slow2", "config": {"visibility": "public"}, "slow": slow}))
    res = js(CONNECT_WINDOW + """
        const svc = await server.getService(args[2]);
        const pending = svc.slow().then(() => "resolved", (e) => ({ name: e.name, message: e.message }));
        await new Promise((r) => setTimeout(r, 200));
        const t0 = performance.now();
        await server.disconnect();
        const result = await pending;
        result.ms = performance.now() - t0;
        result.after = await server.echo(1).then(() => "resolved", (e) => e.message);
        return result;
    """, engine.url, None, info["id"])
    assert res["name"] == "ConnectionError"
    assert "Connection is closed (disconnected by the client)" in res["message"]
    assert "services.slow2.slow" in res["message"] or "slow" in res["message"]
    assert res["ms"] < 1000
    assert "Connection is closed" in res["after"]


def test_method_timeout_without_heartbeat(js, engine):
    # The call is swallowed before it reaches the socket: no answer and no heartbeat ever come.
    res = js(CONNECT + """
        const server = await connectToServer({ server_url: args[0], method_timeout: 1 });
        const send = server.connection.send.bind(server.connection);
        server.connection.send = async () => {};
        const t0 = performance.now();
        const out = await server.echo("lost").then(() => ({ ok: true }), (e) => ({ name: e.name, message: e.message }));
        out.ms = performance.now() - t0;
        server.connection.send = send;
        out.after = await server.echo("delivered");
        await server.disconnect();
        return out;
    """, engine.url)
    assert res["name"] == "TimeoutError", res
    assert res["message"].startswith("Method call timed out: */") and "services.default.echo" in res["message"]
    assert 900 <= res["ms"] < 5000
    assert res["after"] == "delivered"


def test_heartbeats_keep_a_long_call_alive(js, engine, py):
    client = py.connect(method_timeout=2)  # heartbeat interval 1 s
    ids = js(CONNECT_WINDOW + """
        window.service = await server.registerService({
            id: "sleepy", config: { visibility: "public" },
            sleep: async (ms) => { await new Promise((r) => setTimeout(r, ms)); return "awake"; },
        });
        return { id: window.service.id };
    """, engine.url)

    async def scenario():
        svc = await client.get_service(ids["id"])
        return await svc.sleep(4500)  # far longer than the 2 s timeout

    assert py.run(scenario(), timeout=30) == "awake"


def test_reconnection_keeps_workspace_client_id_and_services(js, engine, py):
    ids = js(CONNECT_WINDOW + """
        window.states = [];
        server.connection.addEventListener("statechange", (e) => window.states.push(e.detail));
        await server.registerService({ id: "survivor", config: { visibility: "public" }, ping: () => "still here" });
        const before = { workspace: server.config.workspace, client: server.config.client_id };
        server.connection._ws.close(4000, "simulated network drop");
        for (let i = 0; i < 100 && server.state !== "connected"; i++) await new Promise((r) => setTimeout(r, 100));
        for (let i = 0; i < 100 && !window.states.some((s) => s.state === "connected"); i++) await new Promise((r) => setTimeout(r, 100));
        return { before, after: { workspace: server.config.workspace, client: server.config.client_id },
                 states: window.states, echo: await server.echo("after reconnect") };
    """, engine.url, timeout=30)
    assert ids["before"] == ids["after"]
    assert [s["state"] for s in ids["states"]] == ["reconnecting", "connected"], ids["states"]
    assert "socket closed" in ids["states"][0]["reason"]
    assert ids["echo"] == "after reconnect"
    client = py.connect()

    async def scenario():
        svc = await client.get_service(f"{ids['after']['workspace']}/{ids['after']['client']}:survivor")
        return await svc.ping()

    assert py.run(scenario()) == "still here"


def test_events_subscribe_emit_and_client_disconnected(js, engine, py):
    js(CONNECT_WINDOW + """
        window.events = [];
        await server.on("my-event", (msg) => window.events.push({ type: msg.type, data: msg.data }));
        await server.on("client_disconnected", (msg) => window.events.push({ type: msg.type, data: msg.data }));
    """, engine.url, engine.admin_token)
    client = py.connect(token=engine.admin_token, workspace="default")
    async def emit():
        await client.emit({"type": "my-event", "to": "*", "data": {"n": 1, "from": "python"}})

    py.run(emit())
    py_id = client.config.client_id
    py.run(client.disconnect())
    events = js("""
        for (let i = 0; i < 50 && window.events.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
        await server.emit({ type: "my-event", data: { n: 2 } });
        for (let i = 0; i < 50 && window.events.length < 3; i++) await new Promise((r) => setTimeout(r, 100));
        return window.events;
    """)
    assert {"type": "my-event", "data": {"n": 1, "from": "python"}} in events
    assert {"type": "client_disconnected", "data": {"id": py_id, "workspace": "default"}} in events
    assert {"type": "my-event", "data": {"n": 2}} in events


def test_protected_services_refuse_other_workspaces(js, engine, py):
    ids = js(CONNECT_WINDOW + """
        const info = await server.registerService({ id: "private", hidden: () => "secret" });
        return { id: info.id };
    """, engine.url)
    client = py.connect()  # anonymous: its own workspace
    with pytest.raises(Exception, match="(?i)permission|denied|not found"):
        py.run(client.get_service(ids["id"]))
