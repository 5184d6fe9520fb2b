"""Idle memory of `imjoy serve` binaries side by side (Benchmarks/idle_memory.sh builds them).

Starts each binary in turn with a fresh data directory, waits until it listens and settles, and reads VmRSS,
RssAnon (private) and RssFile (code and libraries) from /proc; repeats `--rounds` times, alternating, and prints a
Markdown table of the medians.

  python Benchmarks/idle_memory.py NAME=PATH NAME=PATH[|VAR=VALUE] [--rounds 3] [--after-load]

With `--after-load` it also relays a 64 MiB array through each server (two hypha-rpc clients, one calling the
other's echo) and reads the memory 1 s after the clients left and again after `--quiet` seconds (the engine gives
memory back after 30 s without work).

`|VAR=VALUE` runs that binary with an extra environment variable (e.g. `|IMJOY_KEEP_CODE_PAGES=1`).
"""
import os
import argparse
import asyncio
import json
import logging
import re
import statistics
import subprocess
import tempfile
import time


def read_memory(pid):
    fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
    return {key: int(fields[key].split()[0]) for key in ("VmRSS", "RssAnon", "RssFile")}


async def relay_array(url, mib=64):
    import numpy as np
    from hypha_rpc import connect_to_server

    logging.disable(logging.CRITICAL)  # hypha-rpc logs its pending chunk tasks being cancelled at disconnect
    server = await connect_to_server({"server_url": url})
    caller = await connect_to_server({"server_url": url})
    try:
        await server.register_service({"id": "memory-echo", "config": {"visibility": "public"}, "echo": lambda x: x})
        echo = await caller.get_service(f"{server.config.workspace}/memory-echo")
        array = np.arange(mib * 1024 * 1024 // 4, dtype=np.float32)
        back = await echo.echo(array)
        assert back.shape == array.shape and float(back[-1]) == float(array[-1]), "the array came back changed"
    finally:
        await caller.disconnect()
        await server.disconnect()


def idle(spec, after_load=False, quiet=32.0):
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
            if not after_load:
                return read_memory(proc.pid)
            url = re.search(r"listening on (\S+)", line).group(1)
            asyncio.run(relay_array(url))
            time.sleep(1)
            soon = read_memory(proc.pid)
            time.sleep(quiet)
            return {"soon": soon, "quiet": read_memory(proc.pid)}
        finally:
            proc.terminate()
            proc.wait(10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binaries", nargs="+", help="NAME=PATH")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json")
    parser.add_argument("--after-load", action="store_true")
    parser.add_argument("--quiet", type=float, default=32.0)
    args = parser.parse_args()
    named = [tuple(item.split("=", 1)) for item in args.binaries]
    samples = {name: [] for name, _ in named}
    for _ in range(args.rounds):
        for name, path in named:
            samples[name].append(idle(path))
    medians = {name: {key: statistics.median(s[key] for s in runs) for key in ("VmRSS", "RssAnon", "RssFile")}
               for name, runs in samples.items()}
    loaded = {name: [] for name, _ in named}
    if args.after_load:
        for _ in range(args.rounds):
            for name, path in named:
                loaded[name].append(idle(path, after_load=True, quiet=args.quiet))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"samples": samples, "medians": medians, "after_load": loaded}, f, indent=2)
    first = named[0][0]
    print("| binary | VmRSS (KiB) | RssAnon (KiB) | RssFile (KiB) | VmRSS vs " + first + " |")
    print("|---|---:|---:|---:|---:|")
    for name, m in medians.items():
        print(f"| {name} | {m['VmRSS']:,.0f} | {m['RssAnon']:,.0f} | {m['RssFile']:,.0f} | "
              f"{m['VmRSS'] / medians[first]['VmRSS']:.2f}× |")
    if args.after_load:
        print()
        print(f"After relaying a 64 MiB array (medians of {args.rounds}): VmRSS 1 s after the clients left, and "
              f"{args.quiet:.0f} s later.")
        print()
        print("| binary | VmRSS 1 s after (KiB) | RssAnon (KiB) | VmRSS " + f"{args.quiet:.0f}" +
              " s later (KiB) | RssAnon (KiB) | RssFile (KiB) |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, runs in loaded.items():
            def med(phase, key):
                return statistics.median(r[phase][key] for r in runs)
            print(f"| {name} | {med('soon', 'VmRSS'):,.0f} | {med('soon', 'RssAnon'):,.0f} | "
                  f"{med('quiet', 'VmRSS'):,.0f} | {med('quiet', 'RssAnon'):,.0f} | {med('quiet', 'RssFile'):,.0f} |")


if __name__ == "__main__":
    main()
