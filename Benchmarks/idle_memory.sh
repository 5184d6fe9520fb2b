#!/usr/bin/env bash
# Idle memory of `imjoy serve` built two ways, in the same run: the normal release build (Swift runtime and
# Foundation as shared libraries) and one with --static-swift-stdlib (linked into the binary). Writes the table
# into BENCHMARKS.md between the <!-- idle-memory --> markers. Not part of the test run; the static build takes
# its own scratch folder (.build-static by default, IMJOY_STATIC_SCRATCH) so the normal one stays valid.
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

echo "==> building imjoy (release, shared Swift runtime, in $dynamic)"
swift build -c release --scratch-path "$dynamic" --product imjoy
echo "==> building imjoy (release, --static-swift-stdlib, in $static)"
swift build -c release --static-swift-stdlib --scratch-path "$static" --product imjoy

{
    echo "## Idle memory: shared vs static Swift runtime (\`Benchmarks/idle_memory.sh\`)"
    echo
    echo "\`imjoy serve --no-plugins\` idle 2 s after it listens, fresh data directory, medians of 3 alternating runs"
    echo "(RssFile: code and libraries mapped in; RssAnon: private memory)."
    echo
    "$py" Benchmarks/idle_memory.py "shared=$dynamic/release/imjoy" "static=$static/release/imjoy" --rounds 3 \
        --json "$out/idle-memory.json"
} > "$out/idle-memory.md"
cat "$out/idle-memory.md"
"$py" Benchmarks/put_section.py idle-memory "$out/idle-memory.md"
echo "==> BENCHMARKS.md updated (raw results in $out)"
