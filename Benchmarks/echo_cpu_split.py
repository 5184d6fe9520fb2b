#!/usr/bin/env python3
"""Where a server's CPU per echo call goes: user space (the server's own code) and kernel (the sockets).

The real hypha-rpc client, as in rpc_bench.py: a client in a child process registers `echo` (rpc_bench's host
also runs in its own process), another calls it, sequentially and then with 64 calls in flight, while /proc/PID/stat gives the server's user and system CPU time. On loopback the
kernel's work to deliver each message to the other process, waking it included, is charged to the writer.
Prints JSON, µs per call.

    echo_cpu_split.py --server-url http://127.0.0.1:9520 --server-pid PID [--count 6000] [--json FILE]
"""
import argparse
import asyncio
import json
import os
import subprocess
import sys

from hypha_rpc import connect_to_server


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])  # utime, stime


async def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server-url", required=True)
    ap.add_argument("--server-pid", type=int, required=True)
    ap.add_argument("--count", type=int, default=6000)
    ap.add_argument("--json", help="write the result here (hypha-rpc logs to stdout) instead of printing it")
    ap.add_argument("--host", action="store_true", help=argparse.SUPPRESS)  # the child: serve echo until stdin closes
    args = ap.parse_args()
    if args.host:
        return await serve_echo(args.server_url)
    tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
    host = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--server-url", args.server_url, "--server-pid", "0", "--host",
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    line = await asyncio.wait_for(host.stdout.readline(), 60)
    workspace = line.decode().strip().rsplit(" ", 1)[-1]
    caller = await connect_to_server({"server_url": args.server_url})
    echo = (await caller.get_service(f"{workspace}/split-echo")).echo
    for _ in range(300):
        await echo("warm-up")
    out = {"count": args.count}

    async def measure(name, run):
        u0, s0 = cpu_ticks(args.server_pid)
        await run()
        u1, s1 = cpu_ticks(args.server_pid)
        out[f"{name}_user_us_per_call"] = (u1 - u0) * tick_us / args.count
        out[f"{name}_system_us_per_call"] = (s1 - s0) * tick_us / args.count

    async def sequential():
        for _ in range(args.count):
            await echo("hello")

    async def inflight():
        per_worker = args.count // 64

        async def worker():
            for _ in range(per_worker):
                await echo("hello")

        await asyncio.gather(*(worker() for _ in range(64)))

    await measure("sequential", sequential)
    await measure("inflight64", inflight)
    await caller.disconnect()
    host.stdin.close()
    await asyncio.wait_for(host.wait(), 30)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f)
    else:
        print(json.dumps(out))


async def serve_echo(server_url):
    host = await connect_to_server({"server_url": server_url})
    await host.register_service({"id": "split-echo", "config": {"visibility": "public"}, "echo": lambda x: x})
    print(f"workspace {host.config['workspace']}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await host.disconnect()


if __name__ == "__main__":
    asyncio.run(main())
