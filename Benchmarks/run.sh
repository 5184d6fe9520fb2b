#!/usr/bin/env bash
# Benchmarks the engine against the real Python Hypha server, in one run, with the same clients.
#
#   Benchmarks/run.sh                 # full run (about 10 minutes on 2 cores), rewrites BENCHMARKS.md
#   BENCH_QUICK=1 Benchmarks/run.sh   # smaller counts and arrays, for a quick look (about 8 minutes)
#
# It builds `imjoy` and `imjoy-bench` in release mode, installs Hypha 0.21.137 and hypha-rpc 0.21.47 into a
# venv outside the repository (IMJOY_BENCH_VENV, default ~/.cache/imjoy-bench/venv), starts both servers on
# loopback, runs the shared rpc_bench.py against each with the client's default settings (permessage-deflate
# offered) and with compression off, runs ws_ceiling.py (the bare-websocket ceiling), the Swift client
# benchmarks (Swift ⇄ Swift echo, 10 000 idle clients), and writes the tables into BENCHMARKS.md.
# Raw results stay in Benchmarks/results/<time>/ (not committed). Not part of the test run.
# IMJOY_BENCH_SCRATCH picks the build folder (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bench_dir="${IMJOY_BENCH_DIR:-$root/../shared/bench}"
venv="${IMJOY_BENCH_VENV:-$HOME/.cache/imjoy-bench/venv}"
out="$root/Benchmarks/results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
[ -f "$bench_dir/rpc_bench.py" ] || { echo "rpc_bench.py not found in $bench_dir (set IMJOY_BENCH_DIR)"; exit 1; }

if [ "${BENCH_QUICK:-0}" = "1" ]; then
    bench_args=(--count 1000 --array-mib 1,16,64 --many-clients 200 --callbacks 1000 --connect-count 10)
    idle_clients=2000
else
    bench_args=(--array-mib 1,16,64)
    idle_clients=10000
fi

scratch="${IMJOY_BENCH_SCRATCH:-$root/.build}"
echo "==> building release binaries (in $scratch)"
swift build -c release --scratch-path "$scratch" --product imjoy
swift build -c release --scratch-path "$scratch" --product imjoy-bench
bin="$scratch/release"

if [ ! -x "$venv/bin/python" ]; then
    echo "==> creating $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "hypha[s3]==0.21.137" hypha-rpc==0.21.47 numpy==2.4.6 \
        "sqlmodel==0.0.22" "sqlalchemy==2.0.35"
fi
py="$venv/bin/python"

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_for() { # file pattern seconds
    for _ in $(seq 1 $(( $3 * 10 ))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    echo "timed out waiting for '$2' in $1"; tail -20 "$1"; exit 1
}

start_hypha() {
    hypha_port=$(free_port)
    HYPHA_WS_MSG_RATE_LIMIT=1000000 HYPHA_WS_MSG_BURST_LIMIT=10000000 HYPHA_MAX_CONNECTIONS_PER_USER=20000 \
        "$py" -m hypha.server --host 127.0.0.1 --port "$hypha_port" > "$out/hypha.log" 2>&1 &
    hypha_pid=$!
    pids+=("$hypha_pid")
    wait_for "$out/hypha.log" "Application startup complete" 90
}

start_imjoy() { # name
    imjoy_port=$(free_port)
    rm -rf "$out/imjoy-data-$1"
    "$bin/imjoy" serve --port "$imjoy_port" --data-dir "$out/imjoy-data-$1" --log-level warning > "$out/imjoy-$1.log" 2>&1 &
    imjoy_pid=$!
    pids+=("$imjoy_pid")
    wait_for "$out/imjoy-$1.log" "listening on" 30
}

echo "==> bare websocket ceiling"
"$py" "$bench_dir/ws_ceiling.py" --json "$out/ceiling.json" > "$out/ceiling.txt"

start_hypha
start_imjoy rpc
sleep 2
memory() { # pid: the idle server's resident memory, split into private (anonymous) and file-backed pages
    "$py" -c 'import json, sys
fields = dict(line.split(":", 1) for line in open(f"/proc/{sys.argv[1]}/status"))
print(json.dumps({k: int(fields[k].split()[0]) for k in ("VmRSS", "RssAnon", "RssFile", "RssShmem") if k in fields}))' "$1"
}
memory "$hypha_pid" > "$out/memory-hypha.json"
memory "$imjoy_pid" > "$out/memory-imjoy.json"
for mode in default off; do
    echo "==> rpc_bench against Hypha (compression: $mode)"
    "$py" "$bench_dir/rpc_bench.py" --server-url "http://127.0.0.1:$hypha_port" --server-pid "$hypha_pid" \
        --ws-compression "$mode" "${bench_args[@]}" --json "$out/hypha-$mode.json" > "$out/hypha-$mode.txt"
    echo "==> rpc_bench against imjoy (compression: $mode)"
    "$py" "$bench_dir/rpc_bench.py" --server-url "http://127.0.0.1:$imjoy_port" --server-pid "$imjoy_pid" \
        --ws-compression "$mode" "${bench_args[@]}" --json "$out/imjoy-$mode.json" > "$out/imjoy-$mode.txt"
done
echo "==> server-side shares: raw-socket ws_open, and user/kernel CPU per echo call"
"$py" Benchmarks/ws_open_raw.py --port "$hypha_port" > "$out/wsraw-hypha.json"
"$py" Benchmarks/ws_open_raw.py --port "$imjoy_port" > "$out/wsraw-imjoy.json"
"$py" Benchmarks/echo_cpu_split.py --server-url "http://127.0.0.1:$hypha_port" --server-pid "$hypha_pid" \
    --json "$out/split-hypha.json" > "$out/split-hypha.log" 2>&1
"$py" Benchmarks/echo_cpu_split.py --server-url "http://127.0.0.1:$imjoy_port" --server-pid "$imjoy_pid" \
    --json "$out/split-imjoy.json" > "$out/split-imjoy.log" 2>&1
echo "==> list_services with 200 Swift clients, against imjoy and Hypha"
"$bin/imjoy-bench" list --server-url "http://127.0.0.1:$imjoy_port" > "$out/swift-list.json"
"$bin/imjoy-bench" list --server-url "http://127.0.0.1:$hypha_port" > "$out/swift-list-hypha.json" \
    || echo "(the Swift list benchmark could not run against Hypha; see above)"
kill "$hypha_pid" 2>/dev/null || true

echo "==> Swift client echo through imjoy"
"$bin/imjoy-bench" echo --server-url "http://127.0.0.1:$imjoy_port" --server-pid "$imjoy_pid" > "$out/swift-echo.json"
kill "$imjoy_pid" 2>/dev/null || true

echo "==> $idle_clients idle clients on a fresh imjoy"
start_imjoy idle
"$bin/imjoy-bench" idle --server-url "http://127.0.0.1:$imjoy_port" --server-pid "$imjoy_pid" \
    --clients "$idle_clients" > "$out/swift-idle.json"
kill "$imjoy_pid" 2>/dev/null || true

echo "==> parsing 1,000 plugin files"
"$bin/imjoy-bench" parse --fixtures "$root/Tests/ImJoyCoreTests/Fixtures" --files 1000 > "$out/swift-parse.json"

echo "==> writing BENCHMARKS.md"
"$py" "$root/Benchmarks/report.py" --bench-dir "$bench_dir" --results "$out" > "$out/BENCHMARKS.md"
# Keep the sections other scripts write (Benchmarks/plugin_start.sh, Benchmarks/batch_bench.sh) of the current file.
"$py" - "$out/BENCHMARKS.md" "$root/BENCHMARKS.md" <<'PY'
import re, sys
new, current = open(sys.argv[1]).read(), open(sys.argv[2]).read()
kept = [m.group(0) for name in ("plugin-start", "batch")
        for m in [re.search(rf"<!-- {name} -->.*?<!-- /{name} -->", current, flags=re.S)] if m]
open(sys.argv[2], "w").write(new.rstrip() + "".join("\n\n" + k for k in kept) + "\n")
PY
echo "results in $out; tables in BENCHMARKS.md"
