"""web/lib/msgpack.js in the browser, checked byte for byte against Python's msgpack (the codec
hypha-rpc uses), plus its limits."""

import hashlib

import msgpack
import pytest

IMPORT = "const mp = await import('/lib/msgpack.js');\n"

# (JavaScript expression, the same value in Python). Every case must encode to identical bytes.
CASES = [
    ("0", 0), ("1", 1), ("127", 127), ("128", 128), ("255", 255), ("256", 256),
    ("65535", 65535), ("65536", 65536), ("2 ** 32 - 1", 2 ** 32 - 1), ("2 ** 32", 2 ** 32),
    ("Number.MAX_SAFE_INTEGER", 2 ** 53 - 1),
    ("-1", -1), ("-32", -32), ("-33", -33), ("-128", -128), ("-129", -129), ("-32768", -32768),
    ("-32769", -32769), ("-(2 ** 31)", -(2 ** 31)), ("-(2 ** 31) - 1", -(2 ** 31) - 1),
    ("Number.MIN_SAFE_INTEGER", -(2 ** 53 - 1)),
    ("2n ** 53n", 2 ** 53), ("2n ** 63n - 1n", 2 ** 63 - 1), ("2n ** 63n", 2 ** 63), ("2n ** 64n - 1n", 2 ** 64 - 1),
    ("-(2n ** 53n) - 1n", -(2 ** 53) - 1), ("-(2n ** 63n)", -(2 ** 63)),
    ("0.5", 0.5), ("-1.25", -1.25), ("1e308", 1e308), ("5e-324", 5e-324), ("0.1 + 0.2", 0.1 + 0.2),
    ("Infinity", float("inf")), ("-Infinity", float("-inf")),
    ("true", True), ("false", False), ("null", None),
    ('""', ""), ('"a".repeat(31)', "a" * 31), ('"a".repeat(32)', "a" * 32), ('"a".repeat(255)', "a" * 255),
    ('"a".repeat(256)', "a" * 256), ('"a".repeat(65535)', "a" * 65535), ('"a".repeat(65536)', "a" * 65536),
    ('"grüße ✓ 😀 中文"', "grüße ✓ 😀 中文"), ('"😀".repeat(10)', "😀" * 10), ('"é".repeat(20)', "é" * 20),
    ('"\\u0000nul"', "\x00nul"),
    ("new Uint8Array(0)", b""), ("new Uint8Array(255).fill(7)", bytes([7]) * 255),
    ("new Uint8Array(256).fill(7)", bytes([7]) * 256), ("new Uint8Array(65536).fill(1)", bytes([1]) * 65536),
    ("[]", []), ("({})", {}), ("[[], {}, [[]]]", [[], {}, [[]]]),
    ("Array.from({length: 15}, (_, i) => i)", list(range(15))), ("Array.from({length: 16}, (_, i) => i)", list(range(16))),
    ("Array.from({length: 65536}, () => 0)", [0] * 65536),
    ("Object.fromEntries(Array.from({length: 15}, (_, i) => ['k' + i, i]))", {f"k{i}": i for i in range(15)}),
    ("Object.fromEntries(Array.from({length: 16}, (_, i) => ['k' + i, i]))", {f"k{i}": i for i in range(16)}),
    ('({a: [1, {b: null}], c: true, "": -1.5})', {"a": [1, {"b": None}], "c": True, "": -1.5}),
    ("new mp.Ext(5, new Uint8Array([1]))", msgpack.ExtType(5, b"\x01")),
    ("new mp.Ext(100, new Uint8Array(300))", msgpack.ExtType(100, bytes(300))),
]

COMPARE = IMPORT + """
const same = (a, b) => {
    if (a instanceof Uint8Array || b instanceof Uint8Array) {
        return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
    }
    if (a instanceof mp.Ext || b instanceof mp.Ext) return a instanceof mp.Ext && b instanceof mp.Ext && a.type === b.type && same(a.data, b.data);
    if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
    if (a && typeof a === "object") {
        const ka = Object.keys(a), kb = Object.keys(b || {});
        return b && typeof b === "object" && ka.length === kb.length && ka.every((k, i) => k === kb[i] && same(a[k], b[k]));
    }
    return typeof a === typeof b && (a === b || (Number.isNaN(a) && Number.isNaN(b)));
};
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const fromHex = (h) => new Uint8Array(h.match(/../g) || []).map((_, i) => parseInt(h.substr(2 * i, 2), 16));
const sha = async (bytes) => hex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
const out = [];
for (const [expr, pyHex] of args[0]) {
    const value = new Function("mp", "return " + expr)(mp);
    const mine = mp.encode(value);
    const decoded = mp.decode(fromHex(pyHex));
    out.push({ expr, sha: await sha(mine), hex: mine.length <= 64 ? hex(mine) : null,
               decodesToSame: same(decoded, value), roundTrips: same(mp.decode(mine), value) });
}
return out;
"""


def test_encoding_matches_python_msgpack_byte_for_byte(js):
    cases = [(expr, msgpack.packb(value).hex()) for expr, value in CASES]
    results = js(COMPARE, cases, timeout=120)
    problems = []
    for (expr, value), r in zip(CASES, results):
        packed = msgpack.packb(value)
        if r["sha"] != hashlib.sha256(packed).hexdigest():
            problems.append(f"{expr}: JS {r['hex']} != Python {packed.hex() if len(packed) <= 64 else '…'}")
        if not r["decodesToSame"]:
            problems.append(f"{expr}: decoding Python's bytes gave another value")
        if not r["roundTrips"]:
            problems.append(f"{expr}: does not round-trip")
    assert not problems, "\n".join(problems)


def test_decoding_python_specific_forms(js):
    blobs = {
        "float32": msgpack.packb(1.5, use_single_float=True).hex(),
        # {1: "one", -2: "minus", true: "t"}: non-string keys (Python would refuse to pack 1 and True together)
        "intKeys": "83" + "01a36f6e65" + "fea56d696e7573" + "c3a174",
        "binKey": "81c4026b6b02",
        "timestamp32": msgpack.packb(msgpack.Timestamp(1700000000, 0)).hex(),
        "timestamp64": msgpack.packb(msgpack.Timestamp(1700000000, 123000000)).hex(),
        "timestamp96": msgpack.packb(msgpack.Timestamp(-1, 0)).hex(),
        "two": (msgpack.packb({"type": "method"}) + msgpack.packb({"args": [1]})).hex(),
        "proto": msgpack.packb({"__proto__": {"polluted": True}}).hex(),
        "pythonFloat": msgpack.packb(15.0).hex(),
    }
    out = js(IMPORT + """
        const fromHex = (h) => new Uint8Array(h.length / 2).map((_, i) => parseInt(h.substr(2 * i, 2), 16));
        const b = args[0];
        const proto = mp.decode(fromHex(b.proto));
        return {
            float32: mp.decode(fromHex(b.float32)),
            intKeys: mp.decode(fromHex(b.intKeys)),
            binKey: mp.decode(fromHex(b.binKey)),
            ts32: mp.decode(fromHex(b.timestamp32)).getTime(),
            ts64: mp.decode(fromHex(b.timestamp64)).getTime(),
            ts96: mp.decode(fromHex(b.timestamp96)).getTime(),
            two: mp.decodeSequence(fromHex(b.two)),
            protoIsOwn: Object.prototype.hasOwnProperty.call(proto, "__proto__"),
            polluted: ({}).polluted === true || Object.getPrototypeOf(proto) !== Object.prototype,
            pythonFloat: mp.decode(fromHex(b.pythonFloat)),
        };
    """, blobs)
    assert out["float32"] == 1.5
    assert out["intKeys"] == {"1": "one", "-2": "minus", "true": "t"}
    assert out["binKey"] == {"kk": 2}
    assert out["ts32"] == 1_700_000_000_000
    assert out["ts64"] == 1_700_000_000_123
    assert out["ts96"] == -1000
    assert out["two"] == [{"type": "method"}, {"args": [1]}]
    assert out["protoIsOwn"] is True and out["polluted"] is False
    assert out["pythonFloat"] == 15


def test_python_decodes_what_the_browser_encodes(js):
    out = js(IMPORT + """
        const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
        return hex(mp.encode({ i: [0, -1, 300, -70000, 2 ** 40], big: 2n ** 64n - 1n, f: 0.25, s: "ü", b: new Uint8Array([1, 2]),
                               n: null, u: undefined, t: true, d: new Date(1700000000123), m: new Map([["k", 1]]),
                               view: new Float32Array([1]) }));
    """)
    value = msgpack.unpackb(bytes.fromhex(out), timestamp=3)
    assert value["i"] == [0, -1, 300, -70000, 2 ** 40]
    assert value["big"] == 2 ** 64 - 1
    assert value["f"] == 0.25 and value["s"] == "ü" and value["b"] == b"\x01\x02"
    assert value["n"] is None and value["u"] is None and value["t"] is True
    assert value["d"].timestamp() == pytest.approx(1700000000.123)
    assert value["m"] == {"k": 1}
    assert value["view"] == b"\x00\x00\x80\x3f"  # a bare ArrayBuffer view is its bytes at this level


def test_limits_and_malformed_input_give_clear_errors(js, engine):
    deep_py = [[]]
    for _ in range(99):
        deep_py = [deep_py]
    out = js(IMPORT + """
        const fromHex = (h) => new Uint8Array(h.length / 2).map((_, i) => parseInt(h.substr(2 * i, 2), 16));
        const nest = (n) => { let v = []; for (let i = 1; i < n; i++) v = [v]; return v; };
        const attempt = (f) => { try { f(); return "ok"; } catch (e) { return e.name + ": " + e.message; } };
        const cyclic = {}; cyclic.self = cyclic;
        const { connectToServer } = await import('/lib/hypha.js');
        const server = await connectToServer({ server_url: args[1] });
        const rpcDeep = await server.echo(nest(100)).then(() => "ok", (e) => e.name + ": " + e.message);
        const rpcCyclic = await server.echo(cyclic).then(() => "ok", (e) => e.name + ": " + e.message);
        const stillWorks = await server.echo("fine");
        await server.disconnect();
        return {
            encode64: attempt(() => mp.encode(nest(64))),
            encode65: attempt(() => mp.encode(nest(65))),
            decode64: attempt(() => mp.decode(mp.encode(nest(64)))),
            decodePython100: attempt(() => mp.decode(fromHex(args[0]))),
            decodeDeepWithLimit: attempt(() => mp.decode(fromHex(args[0]), { maxDepth: 200 })),
            cyclic: attempt(() => mp.encode(cyclic)),
            truncated: attempt(() => mp.decode(new Uint8Array([0xa5, 0x61]))),
            hugeCount: attempt(() => mp.decode(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff]))),
            badByte: attempt(() => mp.decode(new Uint8Array([0xc1]))),
            trailing: attempt(() => mp.decode(new Uint8Array([0x01, 0x02]))),
            badUtf8: attempt(() => mp.decode(new Uint8Array([0xa2, 0xff, 0xfe]))),
            bigTooLarge: attempt(() => mp.encode(2n ** 64n)),
            symbol: attempt(() => mp.encode(Symbol("x"))),
            rpcDeep, rpcCyclic, stillWorks,
        };
    """, msgpack.packb(deep_py).hex(), engine.url)
    assert out["encode64"] == "ok" and out["decode64"] == "ok"
    assert out["encode65"].startswith("MessagePackError: msgpack: value nested deeper than 64 levels")
    assert out["decodePython100"].startswith("MessagePackError: msgpack: data nested deeper than 64 levels")
    assert out["decodeDeepWithLimit"] == "ok"
    assert "nested deeper than 64" in out["cyclic"]
    assert "truncated" in out["truncated"]
    assert "truncated" in out["hugeCount"]
    assert "invalid type byte 0xc1" in out["badByte"]
    assert "unexpected bytes after the value" in out["trailing"]
    assert "invalid UTF-8" in out["badUtf8"]
    assert "does not fit in 64 bits" in out["bigTooLarge"]
    assert "cannot encode a value of type symbol" in out["symbol"]
    assert out["rpcDeep"].startswith("RangeError: Cannot send a value nested deeper than 64 levels")
    assert out["rpcCyclic"].startswith("RangeError: Cannot send a value nested deeper than 64 levels")
    assert out["stillWorks"] == "fine"
