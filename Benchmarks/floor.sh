#!/usr/bin/env bash
# What this machine's loopback allows, beside what imjoy does, in the same run: the floors under issue 3's
# Swift ⇄ Swift and per-MiB targets. Puts a table into BENCHMARKS.md between the <!-- floor --> markers.
# About a minute; needs gcc. Not part of the test run.
#
#   Benchmarks/floor.sh
#
# - `floor/pingpong.c`: client → relay → echo → relay → client with plain sockets (the four socket transits of
#   an echo call through the engine, without framing or RPC).
# - `floor/relay.c`: a relay's CPU per MiB relayed, reading 64 KiB (NIO's default read size) or 1 MiB at a time.
# - `imjoy-bench peer`: two RPC peers in one process without a network (the RPC layer's own cost).
# - `imjoy-bench echo`: a Swift client calls a Swift client's echo through `imjoy serve`.
# IMJOY_BENCH_SCRATCH picks the build folder (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out="$root/Benchmarks/results/$(date +%Y%m%d-%H%M%S)-floor"
scratch="${IMJOY_BENCH_SCRATCH:-$root/.build}"
mkdir -p "$out"

echo "==> building (release, in $scratch) and compiling the C floors"
swift build -c release --scratch-path "$scratch" --product imjoy
swift build -c release --scratch-path "$scratch" --product imjoy-bench
bin="$scratch/release"
gcc -O2 -Wall -o "$out/pingpong" Benchmarks/floor/pingpong.c
gcc -O2 -Wall -o "$out/relay" Benchmarks/floor/relay.c

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true' EXIT

port=$(free_port)
"$bin/imjoy" serve --port "$port" --data-dir "$out/imjoy-data" --log-level warning > "$out/imjoy.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do grep -q "listening on" "$out/imjoy.log" 2>/dev/null && break; sleep 0.1; done

echo "==> C ping-pong, C relay, RPC peers in one process, Swift ⇄ Swift through imjoy serve"
"$out/pingpong" 20000 "$(free_port)" > "$out/pingpong.json"
"$out/relay" 2000 65536 "$(free_port)" > "$out/relay-64k.json"
"$out/relay" 2000 1048576 "$(free_port)" > "$out/relay-1m.json"
"$bin/imjoy-bench" peer --calls 20000 > "$out/peer.json"
"$bin/imjoy-bench" echo --server-url "http://127.0.0.1:$port" --server-pid "$server_pid" --calls 20000 > "$out/echo.json"

python3 - "$out" > "$out/floor.md" <<'PY'
import json, os, sys
out = sys.argv[1]
load = lambda name: json.load(open(os.path.join(out, name)))
ping, r64, r1m, peer, echo = (load(n) for n in ["pingpong.json", "relay-64k.json", "relay-1m.json", "peer.json", "echo.json"])
f = lambda v: f"{v:,.0f}" if v >= 100 else f"{v:.3g}"
print("## Floors: what loopback allows on this machine (`Benchmarks/floor.sh`)\n")
print(f"Run `{os.path.basename(out)}`, all rows in the same run. The C programs do only the socket work of each")
print("measurement, so they bound what any server can reach here.\n")
print("| measurement | C floor | imjoy | imjoy / floor |")
print("|---|---:|---:|---:|")
print(f"| echo through a relay, p50 (µs) | {f(ping['p50_us'])} | {f(echo['p50_us'])} | {echo['p50_us'] / ping['p50_us']:.2f}× |")
print(f"| echo through a relay, p99 (µs) | {f(ping['p99_us'])} | {f(echo['p99_us'])} | {echo['p99_us'] / ping['p99_us']:.2f}× |")
seq_cpu = echo.get("server_cpu_us_per_call_sequential")
print(f"| CPU per sequential echo, all processes (C) / the server only (imjoy) (µs) | {f(ping['cpu_us_per_round_trip'])} | "
      f"{f(seq_cpu) if seq_cpu else '–'} | – |")
print(f"| relay CPU per MiB relayed, 64 KiB reads (ms) | {f(r64['cpu_ms_per_mib_relayed'])} | – | – |")
print(f"| relay CPU per MiB relayed, 1 MiB reads (ms) | {f(r1m['cpu_ms_per_mib_relayed'])} | – | – |")
print()
print("| the RPC layer alone (two peers in one process, no network) | value |")
print("|---|---:|")
print(f"| sequential echo, time per call (µs) | {f(peer['sequential_us_per_call'])} |")
print(f"| sequential echo, CPU per call, both peers (µs) | {f(peer['sequential_cpu_us_per_call'])} |")
print(f"| {peer['inflight']} in flight (calls/s) | {f(peer['inflight_calls_per_s'])} |")
print(f"| {peer['inflight']} in flight, CPU per call, both peers (µs) | {f(peer['inflight_cpu_us_per_call'])} |")
print()
print(f"Issue 3 asks for a Swift ⇄ Swift p50 of at most 80 µs; the plain-socket floor of the same four transits")
print(f"is {f(ping['p50_us'])} µs here, which leaves {f(max(0.0, 80 - ping['p50_us']))} µs per call for framing, routing and both peers. The")
print("per-MiB target (at most 0.1× Hypha's no-deflate figure; see Targets) compares with the relay rows: that")
print("much CPU goes to the kernel's socket work before a server does anything with the bytes.")
PY
python3 Benchmarks/put_section.py floor "$out/floor.md"
cat "$out/floor.md"
echo "==> BENCHMARKS.md updated (raw results in $out)"
