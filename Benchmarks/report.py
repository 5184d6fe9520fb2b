#!/usr/bin/env python3
"""Writes BENCHMARKS.md (to stdout) from one Benchmarks/run.sh result folder.

    report.py --bench-dir ../shared/bench --results Benchmarks/results/<time>
"""
import argparse
import json
import os
import platform
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fmt(v):
    if v is None:
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def ratio(new, base):
    if new is None or base in (None, 0):
        return None
    return new / base


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench-dir", required=True)
    ap.add_argument("--results", required=True)
    args = ap.parse_args()
    sys.path.insert(0, args.bench_dir)
    import rpc_bench  # the shared benchmark's own list of key metrics

    r = {name: load(os.path.join(args.results, f"{name}.json"))
         for name in ("hypha-default", "imjoy-default", "hypha-off", "imjoy-off", "ceiling", "swift-echo",
                      "swift-idle", "swift-parse", "swift-list", "swift-list-hypha", "wsraw-hypha", "wsraw-imjoy",
                      "split-hypha", "split-imjoy", "memory-hypha", "memory-imjoy")}

    def metrics(res):
        return {label: (v, unit, hib) for label, v, unit, hib in rpc_bench.key_metrics(res)} if res else {}

    m = {k: metrics(r[k]) for k in ("hypha-default", "imjoy-default", "hypha-off", "imjoy-off")}

    def get(run, label):
        entry = m[run].get(label)
        return entry[0] if entry else None

    out = []
    w = out.append
    w("# Benchmarks: imjoy serve against Hypha")
    w("")
    w("Produced by `Benchmarks/run.sh` (which runs `Benchmarks/report.py`); do not edit by hand. Both servers ran")
    w("on this machine in the same run, measured by the same client (`rpc_bench.py`, the real `hypha-rpc` 0.21.47")
    w("Python client). Ratios are imjoy / Hypha. Raw JSON results stay in `Benchmarks/results/`.")
    w("")
    meta = (r["imjoy-default"] or {}).get("meta", {})
    w(f"Machine: {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()}. "
      f"Hypha 0.21.137 (uvicorn, `python -m hypha.server`); imjoy release build, `--threads 1`. "
      f"Results folder: `{os.path.basename(os.path.normpath(args.results))}`.")
    w("")

    # Targets
    w("## Targets")
    w("")
    w("| target | Hypha | imjoy | measured | goal | met? |")
    w("|---|---:|---:|---:|---:|---|")

    def target(name, base, new, measured, goal, ok, unit=""):
        w(f"| {name} | {fmt(base)}{unit} | {fmt(new)}{unit} | {measured} | {goal} | "
          f"{'yes' if ok else ('no' if ok is not None else '–')} |")

    def ratio_target(name, label, goal, better_high, base_run="hypha-default", new_run="imjoy-default", unit=""):
        base, new = get(base_run, label), get(new_run, label)
        q = ratio(new, base)
        if q is None:
            return target(name, base, new, "–", goal, None, unit)
        ok = q >= goal if better_high else q <= goal
        target(name, base, new, f"{q:.2f}×", f"{'≥' if better_high else '≤'} {goal:g}×", ok, unit)

    ratio_target("server CPU per echo call (µs)", "echo seq server CPU per call", 0.1, False)
    base = get("hypha-off", "array server CPU per MiB relayed")
    new = get("imjoy-default", "array server CPU per MiB relayed")
    q = ratio(new, base)
    target("server CPU per MiB relayed (ms; Hypha without deflate)", base, new, f"{q:.2f}×" if q else "–", "≤ 0.1×",
           (q <= 0.1) if q else None)
    ratio_target("64 MiB array echo, client defaults (MiB/s)", "array 64MiB echo throughput", 5, True)
    ratio_target("echo calls/s", "echo seq throughput", 1.5, True)
    idle = get("imjoy-default", "many: server RSS before")
    target("RSS idle (KiB)", get("hypha-default", "many: server RSS before"), idle,
           f"{fmt(idle / 1024 if idle else None)} MB", "≤ 30 MB", (idle <= 30 * 1024) if idle else None)
    ratio_target("RSS per client (KiB)", "many: server RSS per client", 0.25, False)
    ls = get("imjoy-default", "many: list_services median")
    target("list_services with 200 clients (ms)", get("hypha-default", "many: list_services median"), ls,
           f"{fmt(ls)} ms", "≤ 5 ms", (ls <= 5) if ls is not None else None)
    sl, slh = r["swift-list"] or {}, r["swift-list-hypha"] or {}
    sls = sl.get("compact_median_ms")
    target("list_services with 200 clients, Swift client (ms)", slh.get("compact_median_ms"), sls,
           f"{fmt(sls)} ms", "≤ 5 ms", (sls <= 5) if sls is not None else None)
    ratio_target("ws_open (ms)", "connect anonymous ws_open median", 1 / 3, False)
    wh, wi = (r["wsraw-hypha"] or {}).get("total_us"), (r["wsraw-imjoy"] or {}).get("total_us")
    q = ratio(wi, wh)
    target("ws_open, raw socket client (µs)", wh, wi, f"{q:.2f}×" if q else "–", "≤ 0.333333×",
           (q <= 1 / 3) if q else None)
    se = r["swift-echo"] or {}
    p50 = se.get("p50_us")
    target("Swift ⇄ Swift echo p50 (µs)", None, p50, f"{fmt(p50)} µs", "≤ 80 µs", (p50 <= 80) if p50 else None)
    tput = se.get("inflight_calls_per_s")
    target("Swift ⇄ Swift echo, 64 in flight (calls/s)", None, tput, f"{fmt(tput)}/s", "≥ 30,000/s",
           (tput >= 30000) if tput else None)
    sp = r["swift-parse"] or {}
    per_file = sp.get("ms_per_file")
    target("parse a plugin file, average over 1,000 (ms)", None, per_file, f"{fmt(per_file)} ms", "< 1 ms",
           (per_file < 1) if per_file is not None else None)
    w("")

    # Swift client and idle clients
    w("## Swift clients (imjoy only)")
    w("")
    w("| metric | value |")
    w("|---|---:|")
    for key, label in (("p50_us", "echo p50 (µs), sequential"), ("p99_us", "echo p99 (µs), sequential"),
                       ("sequential_calls_per_s", "echo calls/s, sequential"),
                       ("inflight_calls_per_s", "echo calls/s, 64 in flight"),
                       ("server_cpu_us_per_call_sequential", "server CPU per call (µs), sequential"),
                       ("server_cpu_us_per_call_inflight", "server CPU per call (µs), 64 in flight")):
        w(f"| {label} | {fmt(se.get(key))} |")
    for key, label in (("compact_median_ms", "list_services, 200 services, median (ms)"),
                       ("compact_p99_ms", "list_services, 200 services, p99 (ms)"),
                       ("with_schema_median_ms", "list_services with include_schema, median (ms)")):
        w(f"| {label} | {fmt(sl.get(key))} |")
    si = r["swift-idle"] or {}
    for key, label in (("connected", "idle clients connected"), ("rss_before_kib", "server RSS before (KiB)"),
                       ("rss_with_clients_kib", "server RSS with the clients (KiB)"),
                       ("rss_per_client_kib", "server RSS per idle client (KiB)"),
                       ("connect_seconds", "time to connect them all (s)")):
        w(f"| {label} | {fmt(si.get(key))} |")
    w("")

    # Server-side shares
    w("## The server's share (measured in the same run)")
    w("")
    w("| measurement | Hypha | imjoy | imjoy / Hypha |")
    w("|---|---:|---:|---:|")
    sh, sj = r["split-hypha"] or {}, r["split-imjoy"] or {}
    wrh, wri = r["wsraw-hypha"] or {}, r["wsraw-imjoy"] or {}
    rows = [
        ("echo, sequential: server user CPU per call (µs)", sh.get("sequential_user_us_per_call"),
         sj.get("sequential_user_us_per_call")),
        ("echo, sequential: server kernel CPU per call (µs)", sh.get("sequential_system_us_per_call"),
         sj.get("sequential_system_us_per_call")),
        ("echo, 64 in flight: server user CPU per call (µs)", sh.get("inflight64_user_us_per_call"),
         sj.get("inflight64_user_us_per_call")),
        ("echo, 64 in flight: server kernel CPU per call (µs)", sh.get("inflight64_system_us_per_call"),
         sj.get("inflight64_system_us_per_call")),
        ("idle server, resident memory (KiB)", (r["memory-hypha"] or {}).get("VmRSS"),
         (r["memory-imjoy"] or {}).get("VmRSS")),
        ("idle server, private memory: RssAnon (KiB)", (r["memory-hypha"] or {}).get("RssAnon"),
         (r["memory-imjoy"] or {}).get("RssAnon")),
        ("idle server, file-backed pages (code, libraries): RssFile (KiB)", (r["memory-hypha"] or {}).get("RssFile"),
         (r["memory-imjoy"] or {}).get("RssFile")),
        ("raw-socket ws_open: TCP connect (µs)", wrh.get("connect_us"), wri.get("connect_us")),
        ("raw-socket ws_open: HTTP upgrade (µs)", wrh.get("upgrade_us"), wri.get("upgrade_us")),
        ("raw-socket ws_open: auth → connection_info (µs)", wrh.get("auth_us"), wri.get("auth_us")),
        ("raw-socket ws_open: total (µs)", wrh.get("total_us"), wri.get("total_us")),
    ]
    for label, base, new in rows:
        q = ratio(new, base)
        w(f"| {label} | {fmt(base)} | {fmt(new)} | {f'{q:.2f}×' if q else '–'} |")
    w("")
    w("`echo_cpu_split.py` reads the server's user and system time from /proc around hypha-rpc echo calls, the")
    w("service in its own process as in rpc_bench.py (10 ms ticks: a few µs of resolution per call, and the kernel")
    w("charges a tick to whichever mode it interrupts); `ws_open_raw.py` opens anonymous connections with a plain")
    w("socket, so the Python client's own ~1.5 ms per `open()` is not in the figure.")
    w("")

    # Full comparison tables
    for mode, title in (("default", "client defaults (permessage-deflate offered)"),
                        ("off", "compression off (`--ws-compression off`)")):
        w(f"## Every metric, {title}")
        w("")
        w("| metric | unit | Hypha | imjoy | imjoy / Hypha | better? |")
        w("|---|---|---:|---:|---:|---|")
        for label, (base, unit, hib) in m[f"hypha-{mode}"].items():
            new = get(f"imjoy-{mode}", label)
            q = ratio(new, base)
            better = None if q is None or q == 1 else ((q > 1) == hib)
            w(f"| {label} | {unit} | {fmt(base)} | {fmt(new)} | {f'{q:.2f}×' if q else '–'} | "
              f"{'yes' if better else ('no' if better is not None else '–')} |")
        w("")

    # Ceiling
    c = r["ceiling"] or {}
    w("## Bare websocket ceiling (`ws_ceiling.py`: Python `websockets` echo, no RPC)")
    w("")
    w("| measurement | value |")
    w("|---|---:|")
    tcp = c.get("raw_tcp", {}).get("tiny_rtt_us", {})
    w(f"| raw TCP 16-byte round trip, median (µs) | {fmt(tcp.get('median'))} |")
    for comp in ("none", "deflate"):
        block = c.get(f"compression_{comp}", {})
        tiny = block.get("tiny_rtt_us", {})
        w(f"| websocket 16-byte round trip, compression {comp}, median (µs) | {fmt(tiny.get('median'))} |")
        w(f"| websocket 16-byte messages/s, compression {comp} | {fmt(tiny.get('msgs_per_s'))} |")
        for key, value in block.items():
            if key.startswith("frame_"):
                w(f"| {key[6:]} frame echo, compression {comp} (MiB/s) | {fmt(value.get('payload_mib_per_s'))} |")
    w("")
    w("## Reading these numbers")
    w("")
    w("- Each echo call through a server is three messages (call, heartbeat, result): the server reads and writes")
    w("  each, and on loopback the kernel's TCP work for delivering to the other process is charged to the writer.")
    w("  On this 2-core VM that kernel share is most of imjoy's CPU per sequential call; see the server CPU per")
    w("  call with 64 in flight (the same work, fewer wake-ups per message) in the tables above.")
    w("- The Python client bounds the call rate and the array throughput; compare server CPU figures to compare servers.")
    w("- `ws_open` through hypha-rpc includes about 1.5 ms of the client's own work (websockets' handshake, asyncio")
    w("  scheduling) that no server can remove; the raw-socket row measures what the server adds.")
    w("- `list_services` through the Python client is bounded by the client: hypha-rpc turns every map of the answer")
    w("  into an `ObjectProxy` (munch), about 2.5 µs per value on this machine, so 200 service infos cost it several")
    w("  milliseconds whatever the server does. imjoy lists compact infos (no `service_schema`, which is most of an")
    w("  info's maps; ask with `include_schema`). The Swift-client row times the same listing without that cost")
    w("  (against Hypha too, when its answer could be read: the Hypha column of that row).")
    w("- imjoy never negotiates permessage-deflate: compressing random numeric arrays costs far more CPU than it")
    w("  saves on a LAN, so with the client's defaults imjoy moves raw bytes while Hypha compresses.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
