#!/usr/bin/env bash
# Idle memory of `imjoy serve` (release build), in the same run: as it runs (it drops the code pages only
# start-up needed, 1 s after it listens, and gives code and heap back again after 30 s without work) and with
# IMJOY_KEEP_CODE_PAGES=1 (keeps them). Then the same after relaying a 64 MiB array: 1 s and 32 s after. With IMJOY_STATIC=1 also a
# build with --static-swift-stdlib (in .build-static, IMJOY_STATIC_SCRATCH; ~9 min the first time). Writes the
# table into BENCHMARKS.md between the <!-- idle-memory --> markers. Not part of the test run.
#
#   Benchmarks/idle_memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
py="${IMJOY_TEST_PYTHON:-$root/.venv-test/bin/python}"
dynamic="${IMJOY_BENCH_SCRATCH:-$root/.build}"
static="${IMJOY_STATIC_SCRATCH:-$root/.build-static}"
out="$root/Benchmarks/results/$(date +%Y%m%d-%H%M%S)-idle-memory"
mkdir -p "$out"

echo "==> building imjoy (release, in $dynamic)"
swift build -c release --scratch-path "$dynamic" --product imjoy
binaries=("as run=$dynamic/release/imjoy" "code pages kept=$dynamic/release/imjoy|IMJOY_KEEP_CODE_PAGES=1")
if [ "${IMJOY_STATIC:-0}" = "1" ]; then
    echo "==> building imjoy (release, --static-swift-stdlib, in $static)"
    swift build -c release --static-swift-stdlib --scratch-path "$static" --product imjoy
    binaries+=("static Swift runtime, code pages kept=$static/release/imjoy|IMJOY_KEEP_CODE_PAGES=1")
fi

{
    echo "## Idle memory (\`Benchmarks/idle_memory.sh\`)"
    echo
    echo "\`imjoy serve --no-plugins\` (release), idle 5 s after it listens, fresh data directory, medians of 3"
    echo "alternating runs. RssFile: code and libraries mapped in (clean pages of the page cache); RssAnon: private"
    echo "memory. The engine drops the code pages only start-up needed once it listens, and code and freed heap"
    echo "again after 30 s without work (IdleTrimmer); code used later comes back on first touch."
    echo
    "$py" Benchmarks/idle_memory.py "${binaries[@]}" --rounds 3 --after-load --json "$out/idle-memory.json"
} > "$out/idle-memory.md"
cat "$out/idle-memory.md"
"$py" Benchmarks/put_section.py idle-memory "$out/idle-memory.md"
echo "==> BENCHMARKS.md updated (raw results in $out)"
