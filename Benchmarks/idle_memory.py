"""Idle memory of `imjoy serve` binaries side by side (Benchmarks/idle_memory.sh builds them).

Starts each binary in turn with a fresh data directory, waits until it listens and settles, and reads VmRSS,
RssAnon (private) and RssFile (code and libraries) from /proc; repeats `--rounds` times, alternating, and prints a
Markdown table of the medians.

  python Benchmarks/idle_memory.py NAME=PATH NAME=PATH[|VAR=VALUE] [--rounds 3]

`|VAR=VALUE` runs that binary with an extra environment variable (e.g. `|IMJOY_KEEP_CODE_PAGES=1`).
"""
import os
import argparse
import json
import re
import statistics
import subprocess
import tempfile
import time


def idle(spec):
    binary, _, extra = spec.partition("|")
    env = dict(os.environ)
    if extra:
        key, _, value = extra.partition("=")
        env[key] = value
    with tempfile.TemporaryDirectory() as data:
        proc = subprocess.Popen([binary, "serve", "--port", "0", "--data-dir", data, "--no-plugins", "--log-level", "warning"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        try:
            deadline = time.monotonic() + 30
            for line in proc.stdout:
                if "listening on" in line or time.monotonic() > deadline:
                    break
            time.sleep(5)
            fields = dict(line.split(":", 1) for line in open(f"/proc/{proc.pid}/status"))
            return {key: int(fields[key].split()[0]) for key in ("VmRSS", "RssAnon", "RssFile")}
        finally:
            proc.terminate()
            proc.wait(10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binaries", nargs="+", help="NAME=PATH")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    named = [tuple(item.split("=", 1)) for item in args.binaries]
    samples = {name: [] for name, _ in named}
    for _ in range(args.rounds):
        for name, path in named:
            samples[name].append(idle(path))
    medians = {name: {key: statistics.median(s[key] for s in runs) for key in ("VmRSS", "RssAnon", "RssFile")}
               for name, runs in samples.items()}
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"samples": samples, "medians": medians}, f, indent=2)
    first = named[0][0]
    print("| binary | VmRSS (KiB) | RssAnon (KiB) | RssFile (KiB) | VmRSS vs " + first + " |")
    print("|---|---:|---:|---:|---:|")
    for name, m in medians.items():
        print(f"| {name} | {m['VmRSS']:,.0f} | {m['RssAnon']:,.0f} | {m['RssFile']:,.0f} | "
              f"{m['VmRSS'] / medians[first]['VmRSS']:.2f}× |")


if __name__ == "__main__":
    main()
