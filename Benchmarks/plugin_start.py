#!/usr/bin/env python3
"""Times native-python plugin starts through `public/plugin-engine`: uv against venv + pip, in one run.

    plugin_start.py --imjoy .build/release/imjoy --out Benchmarks/results/<time> [--runs 3]
                    [--requirements numpy scikit-image]

For each installer and each run it starts a fresh engine on a fresh data directory and measures, from the
client's `start()` call until it returns (the plugin's `setup()` done and its API registered):

  cold          empty environment folder and an empty installer cache (everything is downloaded)
  warm start    the same plugin started again (its environment is reused; no installer runs)
  warm cache    a new environment with the installer's cache already full (a second engine, same cache)

The plugin imports every requirement in its script, so the warm start includes the imports. Writes
plugin-start.json and plugin-start.md (a BENCHMARKS.md section) into --out. Needs hypha-rpc in this
interpreter and `uv` on PATH (the engine uses it instead of installing its own copy).
"""
import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from hypha_rpc import connect_to_server

IMPORTS = {"scikit-image": "skimage", "scikit-learn": "sklearn", "pillow": "PIL", "opencv-python": "cv2"}


def plugin_source(requirements):
    modules = [IMPORTS.get(r.split("=")[0].split(">")[0].split("<")[0], r.split("=")[0].replace("-", "_"))
               for r in requirements]
    imports = "\n".join(f"import {m}" for m in modules)
    config = {"name": "Start Bench", "type": "native-python", "version": "0.1.0", "requirements": requirements}
    return f'''<config lang="json">
{json.dumps(config)}
</config>
<script lang="python">
{imports}
from imjoy import api

class ImJoyPlugin:
    def setup(self):
        self.versions = [{", ".join(f"{m}.__version__" for m in modules)}]

    def run(self, ctx):
        return self.versions

api.export(ImJoyPlugin())
</script>
'''


class Engine:
    def __init__(self, imjoy, data_dir, cache_dir, installer, env):
        self.proc = subprocess.Popen(
            [imjoy, "serve", "--port", "0", "--data-dir", data_dir, "--cache-dir", cache_dir, "--installer", installer,
             "--setup-timeout", "600", "--log-level", "warning"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.url = None
        self.lines = []
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                self.lines.append(line)
                match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
                if match:
                    self.url = match.group(1)
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(30) or not self.url:
            self.proc.kill()
            raise RuntimeError("imjoy serve did not start:\n" + "".join(self.lines[-20:]))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def timed_start(url, source, restart_after=False):
    """Seconds for start() (and for a second start after a stop, when asked)."""
    client = await connect_to_server({"server_url": url})
    engine = await client.get_service("public/plugin-engine")
    started = time.perf_counter()
    api = await engine.start(source)
    first = time.perf_counter() - started
    versions = await api.run({})
    second = None
    if restart_after:
        await engine.stop("Start Bench")
        started = time.perf_counter()
        await engine.start("Start Bench")
        second = time.perf_counter() - started
    await client.disconnect()
    return first, second, versions


def measure(imjoy, installer, runs, source, scratch, env):
    cold, warm_start, warm_cache, versions = [], [], [], None
    for run in range(runs):
        base = os.path.join(scratch, f"{installer}-{run}")
        cache = os.path.join(base, "cache")
        pip_cache = os.path.join(base, "pip-cache")
        run_env = dict(env, PIP_CACHE_DIR=pip_cache)
        engine = Engine(imjoy, os.path.join(base, "data-1"), cache, installer, run_env)
        try:
            first, second, versions = asyncio.run(timed_start(engine.url, source, restart_after=True))
        finally:
            engine.stop()
        cold.append(first)
        warm_start.append(second)
        engine = Engine(imjoy, os.path.join(base, "data-2"), cache, installer, run_env)
        try:
            third, _, _ = asyncio.run(timed_start(engine.url, source))
        finally:
            engine.stop()
        warm_cache.append(third)
        print(f"{installer} run {run + 1}: cold {first:.2f} s, warm start {second:.2f} s, warm cache {third:.2f} s",
              flush=True)
        shutil.rmtree(base, ignore_errors=True)
    return {"cold": cold, "warm_start": warm_start, "warm_cache": warm_cache, "versions": versions}


def markdown(result):
    uv, pip = result["uv"], result["pip"]
    med = {k: {name: statistics.median(v[name]) for name in ("cold", "warm_start", "warm_cache")}
           for k, v in (("uv", uv), ("pip", pip))}
    lines = [
        "## Native-python plugin start (`Benchmarks/plugin_start.sh`)",
        "",
        f"A plugin with `requirements: {json.dumps(result['requirements'])}` that imports them in its script, "
        f"started through `public/plugin-engine` from a hypha-rpc client; seconds from `start()` until it returns "
        f"(`setup()` done), median of {result['runs']} runs, each on a fresh engine and data directory. "
        f"Measured {result['date']} on {result['machine']}.",
        "",
        "| start | uv (s) | venv + pip (s) | uv / pip |",
        "| --- | ---: | ---: | ---: |",
    ]
    labels = {"cold": "cold: empty installer cache, new environment",
              "warm_cache": "new environment, installer cache full",
              "warm_start": "warm: environment reused (second start)"}
    for key in ("cold", "warm_cache", "warm_start"):
        ratio = med["uv"][key] / med["pip"][key] if med["pip"][key] else float("nan")
        lines.append(f"| {labels[key]} | {med['uv'][key]:.2f} | {med['pip'][key]:.2f} | {ratio:.2f}× |")
    lines += [
        "",
        f"Target: a second start with the same requirements reaches `setup()` done in under 2 s — "
        f"uv {med['uv']['warm_start']:.2f} s, pip {med['pip']['warm_start']:.2f} s. "
        f"Installed versions: {', '.join(map(str, uv['versions'] or []))}. "
        "Every run: " + "; ".join(
            f"{k} cold {', '.join(f'{x:.1f}' for x in v['cold'])}" for k, v in (("uv", uv), ("pip", pip))) + ".",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--imjoy", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requirements", nargs="+", default=["numpy", "scikit-image"])
    args = parser.parse_args()
    if not shutil.which("uv"):
        sys.exit("uv must be on PATH (pip install uv) so cold runs do not include installing uv itself")
    os.makedirs(args.out, exist_ok=True)
    source = plugin_source(args.requirements)
    scratch = tempfile.mkdtemp(prefix="imjoy-plugin-bench-")
    env = dict(os.environ)
    try:
        result = {
            "requirements": args.requirements, "runs": args.runs, "date": time.strftime("%Y-%m-%d"),
            "machine": f"{os.cpu_count()} cores, {os.uname().machine}, Python {sys.version.split()[0]}",
            "uv": measure(args.imjoy, "uv", args.runs, source, scratch, env),
            "pip": measure(args.imjoy, "pip", args.runs, source, scratch, env),
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    with open(os.path.join(args.out, "plugin-start.json"), "w") as f:
        json.dump(result, f, indent=2)
    with open(os.path.join(args.out, "plugin-start.md"), "w") as f:
        f.write(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
