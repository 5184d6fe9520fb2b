"""What one hypha-rpc call costs a Python plugin process, through `imjoy serve` (not part of the test run).

A hypha-rpc service runs in its own Python process, as a native-python plugin's does; a second hypha-rpc client
calls it through the engine. It prints, per kind of call, the round trip and the service process's CPU time per
call (from /proc): a small echo, and the demo counter's payload (a 256x256 uint8 image in; a uint16 mask and a
20-row table out). This is the floor under the batch benchmark's per-image overhead that hypha-rpc itself sets.

    python Benchmarks/python_call_cost.py --imjoy .build/release/imjoy [--calls 500]

The Python must have hypha-rpc and numpy (the benchmark venv of Benchmarks/run.sh has both).
"""
import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROWS = [{"label": i, "area": 200 + i, "mean_intensity": 0.5, "centroid_y": 1.5, "centroid_x": 2.5, "eccentricity": 0.3}
        for i in range(1, 21)]


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def serve(url):
    import numpy as np
    from hypha_rpc import connect_to_server

    server = await connect_to_server({"server_url": url, "client_id": "cost", "long_message_chunk_size": 500_000})

    def run(ctx):
        data = dict(ctx.get("data") or {})
        image = np.asarray(data["image"])
        result = {key: value for key, value in data.items() if key != "image"}
        result.update({"mask": np.zeros(image.shape, dtype=np.uint16), "count": 20, "threshold": 0.5, "table": ROWS})
        return result

    await server.register_service({"id": "cost", "config": {"visibility": "public"}, "run": run, "echo": lambda x: x})
    print(server.config.workspace, flush=True)
    await asyncio.Event().wait()


async def measure(url, workspace, pid, calls):
    import numpy as np
    from hypha_rpc import connect_to_server

    client = await connect_to_server({"server_url": url, "long_message_chunk_size": 500_000})
    service = await client.get_service(f"{workspace}/cost:cost")
    image = np.zeros((256, 256), dtype=np.uint8)
    payload = {"data": {"image": image, "name": "a.png", "shape": [256, 256], "dtype": "uint8"}, "config": {}}
    print("| call | round trip (ms) | service process CPU per call (ms) |\n|---|---:|---:|")
    for label, function, argument in (("small echo", service.echo, "x"), ("the counter's payload", service.run, payload)):
        for _ in range(20):
            await function(argument)
        cpu0, start = cpu_seconds(pid), time.perf_counter()
        for _ in range(calls):
            await function(argument)
        elapsed, cpu = time.perf_counter() - start, cpu_seconds(pid) - cpu0
        print(f"| {label} | {elapsed / calls * 1e3:.2f} | {cpu / calls * 1e3:.2f} |")
    await client.disconnect()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--imjoy", help="the imjoy binary (release build)")
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # internal: run the service against this URL
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))
        return
    if not args.imjoy:
        sys.exit("--imjoy is required")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        engine = subprocess.Popen([args.imjoy, "serve", "--port", str(port), "--threads", "1", "--data-dir", data,
                                   "--log-level", "warning"], stdout=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{url}/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            service = subprocess.Popen([sys.executable, __file__, "--serve", url], stdout=subprocess.PIPE, text=True)
            try:
                workspace = service.stdout.readline().strip()
                if not workspace:
                    sys.exit("the service process did not start")
                asyncio.run(measure(url, workspace, service.pid, args.calls))
            finally:
                service.kill()
        finally:
            engine.terminate()
            engine.wait(timeout=10)


if __name__ == "__main__":
    main()
