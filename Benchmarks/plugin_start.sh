#!/usr/bin/env bash
# Benchmarks native-python plugin starts (cold / warm, uv vs venv + pip; median of 3) and puts the table into
# BENCHMARKS.md between the <!-- plugin-start --> markers. About 5 minutes; downloads numpy and scikit-image
# several times (cold runs use empty caches). Not part of the test run.
#
#   Benchmarks/plugin_start.sh
#   BENCH_RUNS=1 BENCH_REQUIREMENTS="numpy" Benchmarks/plugin_start.sh    # a quick look
#
# IMJOY_BENCH_SCRATCH picks the build folder (default .build); IMJOY_PLUGIN_BENCH_VENV the venv with hypha-rpc
# and uv (default ~/.cache/imjoy-bench/plugin-venv).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out="$root/Benchmarks/results/$(date +%Y%m%d-%H%M%S)-plugins"
venv="${IMJOY_PLUGIN_BENCH_VENV:-$HOME/.cache/imjoy-bench/plugin-venv}"
scratch="${IMJOY_BENCH_SCRATCH:-$root/.build}"

echo "==> building imjoy (release, in $scratch)"
swift build -c release --scratch-path "$scratch" --product imjoy
if [ ! -x "$venv/bin/uv" ]; then
    echo "==> creating $venv (hypha-rpc, uv)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet hypha-rpc==0.21.47 uv==0.13.9
fi
# uv on PATH: the engine uses it rather than installing its own copy, so cold runs time environments only.
PATH="$venv/bin:$PATH" "$venv/bin/python" Benchmarks/plugin_start.py --imjoy "$scratch/release/imjoy" --out "$out" \
    --runs "${BENCH_RUNS:-3}" --requirements ${BENCH_REQUIREMENTS:-numpy scikit-image}

"$venv/bin/python" Benchmarks/put_section.py plugin-start "$out/plugin-start.md"
echo "==> BENCHMARKS.md updated (raw results in $out)"
