#!/usr/bin/env bash
# Benchmarks a batch through the demo workflow "count nuclei" (plugins/workflows/count-nuclei.imjoy.json):
# 100 generated nuclei images through `imjoy run` (release build), against the plugins' own compute timed inside
# them in the same runs, and the plugins called directly in the same environment (3 interleaved rounds, medians).
# Writes the table into BENCHMARKS.md between the <!-- batch --> markers. About 2 minutes after the build (the
# first run downloads scikit-image). Not part of the test run.
#
#   Benchmarks/batch_bench.sh
#   BENCH_IMAGES=20 Benchmarks/batch_bench.sh      # a quick look
#
# IMJOY_BENCH_SCRATCH picks the build folder (default .build); the test venv (.venv-test, scripts/test makes it)
# provides numpy for generating the images.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out="$root/Benchmarks/results/$(date +%Y%m%d-%H%M%S)-batch"
scratch="${IMJOY_BENCH_SCRATCH:-$root/.build}"
py="${IMJOY_TEST_PYTHON:-$root/.venv-test/bin/python}"
mkdir -p "$out"
[ -x "$py" ] || { echo "no Python with numpy at $py: run scripts/test once, or set IMJOY_TEST_PYTHON"; exit 1; }

echo "==> building imjoy (release, in $scratch)"
swift build -c release --scratch-path "$scratch" --product imjoy
"$py" Benchmarks/batch_bench.py --imjoy "$scratch/release/imjoy" --out "$out" --images "${BENCH_IMAGES:-100}" \
    --cache-dir "${IMJOY_TEST_CACHE_DIR:-$root/.build/imjoy-test-cache}"

"$py" Benchmarks/put_section.py batch "$out/batch.md"
echo "==> BENCHMARKS.md updated (raw results in $out)"
