"""Batch benchmark of the demo workflow (run by Benchmarks/batch_bench.sh).

Generates N nuclei images with known counts, runs them through `imjoy run plugins/workflows/count-nuclei.imjoy.json`
(after a warm-up run that builds the plugins' environment), then runs the same two plugins' `run` functions on the
same images directly in that environment, in one fresh Python process (so both pay the same lazy imports), and
reports images/s and the share of the batch's time spent outside the plugins' own compute. The three runs take
turns for --rounds rounds and each figure is a median over them: this machine's speed drifts by tens of percent
within minutes, which a single run of each would mistake for engine overhead (or gain)."""
import argparse
import csv
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "PluginEngine"))
from test_run import nuclei_image, write_png  # noqa: E402  (the generator the acceptance test uses)

WORKFLOW = REPO / "plugins" / "workflows" / "count-nuclei.imjoy.json"

BASELINE = r'''
import asyncio, json, re, sys, time, types
from pathlib import Path
plugins = {}
def load(path):
    api = types.SimpleNamespace(export=lambda p: plugins.setdefault(path, p))
    sys.modules["imjoy"] = types.SimpleNamespace(api=api)
    code = re.search(r'<script lang="python">(.*?)</script>', Path(path).read_text(), re.S).group(1)
    exec(compile(code, path, "exec"), {"__name__": path})
    return plugins[path]
reader, counter = load(sys.argv[1]), load(sys.argv[2])
reader_config = {"grayscale": "yes", "sample": "coins"}
counter_config = {"sigma": 2, "min_area": 30, "threshold": "", "split_touching": "no"}
loop = asyncio.new_event_loop()
seconds, counts = [], {}
for path in sys.argv[3:]:
    start = time.perf_counter()
    data = loop.run_until_complete(reader.run({"config": reader_config, "data": {"path": path, "name": Path(path).name}}))
    result = loop.run_until_complete(counter.run({"config": counter_config, "data": data}))
    seconds.append(time.perf_counter() - start)
    counts[Path(path).name] = result["count"]
print(json.dumps({"seconds": seconds, "counts": counts}))
'''


# Appended to copies of the two plugins that the benchmark installs: each `run` logs when the plugin's own code
# started and ended (CLOCK_MONOTONIC, the same clock in every process), so every image's time through `imjoy run` is
# compared with its compute in that same run, at that moment, and a step's idle time between two images is known.
TIMED_EXPORT = '''
import json as _json, os as _os, time as _time
def _timed(plugin, label):
    run = plugin.run
    async def timed_run(ctx):
        start = _time.perf_counter()
        result = await run(ctx)
        elapsed = _time.perf_counter() - start
        with open(_os.path.join(api.WORK_DIR, "compute-times.jsonl"), "a") as log:
            log.write(_json.dumps([label, elapsed, start]) + "\\n")
        return result
    plugin.run = timed_run
    return plugin
api.export(_timed(ImJoyPlugin(), {label!r}))
'''


def install_timed_plugins(imjoy, out, data):
    """Installs copies of Image Reader and Nuclei Counter whose `run` logs its own compute time."""
    folder = out / "timed-plugins"
    folder.mkdir()
    for file, label in (("Image-Reader.imjoy.html", "Image Reader"), ("Nuclei-Counter.imjoy.html", "Nuclei Counter")):
        source = (REPO / "plugins" / file).read_text()
        assert source.count("api.export(ImJoyPlugin())") == 1, file
        timed = folder / file
        timed.write_text(source.replace("api.export(ImJoyPlugin())", TIMED_EXPORT.format(label=label)))
        subprocess.run([imjoy, "install", str(timed), "--data-dir", str(data)], check=True, capture_output=True)


# The demo workflow's two steps with their payloads and no compute: what the engine, RPC and CLI cost per image.
RPC_ONLY_REQUIREMENTS = '["numpy==2.4.6", "scikit-image==0.26.0", "imageio==2.38.1", "tifffile==2025.12.20"]'
RPC_ONLY_READER = '''<config lang="json">{{"name": "RPC Only Reader", "type": "native-python", "version": "0.1.0",
 "requirements": {requirements}}}</config>
<script lang="python">
import numpy as np
from imjoy import api

class ImJoyPlugin:
    def run(self, ctx):
        data = dict(ctx.get("data") or {{}})
        return {{"image": np.zeros(({size}, {size}), dtype=np.uint8), "name": data.get("name"), "shape": [{size}, {size}],
                "dtype": "uint8"}}

api.export(ImJoyPlugin())
</script>'''
RPC_ONLY_COUNTER = '''<config lang="json">{{"name": "RPC Only Counter", "type": "native-python", "version": "0.1.0",
 "requirements": {requirements}}}</config>
<script lang="python">
import numpy as np
from imjoy import api

ROWS = [{{"label": i, "area": 200 + i, "mean_intensity": 0.5, "centroid_y": 1.5, "centroid_x": 2.5, "eccentricity": 0.3}}
        for i in range(1, 21)]

class ImJoyPlugin:
    def run(self, ctx):
        data = dict(ctx.get("data") or {{}})
        image = np.asarray(data["image"])
        result = {{key: value for key, value in data.items() if key != "image"}}
        result.update({{"mask": np.zeros(image.shape, dtype=np.uint16), "count": len(ROWS), "threshold": 0.5,
                       "table": ROWS}})
        return result

api.export(ImJoyPlugin())
</script>'''


def install_rpc_only_workflow(imjoy, out, data, size):
    """Installs the two payload-only plugins (same environment as the demo's) and returns their workflow file."""
    folder = out / "rpc-only"
    folder.mkdir()
    for name, template in (("RPC-Only-Reader", RPC_ONLY_READER), ("RPC-Only-Counter", RPC_ONLY_COUNTER)):
        plugin = folder / f"{name}.imjoy.html"
        plugin.write_text(template.format(requirements=RPC_ONLY_REQUIREMENTS, size=size))
        subprocess.run([imjoy, "install", str(plugin), "--data-dir", str(data)], check=True, capture_output=True)
    workflow = folder / "rpc-only.imjoy.json"
    workflow.write_text(json.dumps({"format": "imjoy-workflow", "version": 1, "name": "rpc only",
                                    "steps": [{"plugin": "RPC Only Reader"}, {"plugin": "RPC Only Counter"}]}))
    return workflow


def collect_compute_times(data):
    """What the timed plugins logged since the last call, per plugin, in start order: [(seconds, start)]."""
    times = {}
    for log in data.rglob("compute-times.jsonl"):
        for line in log.read_text().splitlines():
            label, seconds, start = json.loads(line)
            times.setdefault(label, []).append((seconds, start))
        log.unlink()
    return {label: sorted(calls, key=lambda call: call[1]) for label, calls in times.items()}


def idle_between_images(calls):
    """A step's median time between the end of one image's compute and the start of the next one's (s)."""
    gaps = [after[1] - (before[1] + before[0]) for before, after in zip(calls, calls[1:])]
    return statistics.median(gaps) if gaps else 0.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--imjoy", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--cache-dir", required=True)
    parser.add_argument("--size", type=int, default=256, help="Image side in pixels.")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds of the three runs, interleaved.")
    args = parser.parse_args()
    out = Path(args.out)
    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    expected = {}
    for index in range(args.images):
        scale = args.size // 256
        count = (5 + index % 30) * scale * scale
        name = f"nuclei-{index:03d}.png"
        write_png(images / name, nuclei_image(count, index, shape=(args.size, args.size)))
        expected[name] = count
    data = out / "data"
    common = ["--data-dir", str(data), "--cache-dir", args.cache_dir]

    install_timed_plugins(args.imjoy, out, data)
    rpc_only = install_rpc_only_workflow(args.imjoy, out, data, args.size)
    warm = out / "warm-up"
    warm.mkdir()
    for name in sorted(expected)[:3]:
        (warm / name).write_bytes((images / name).read_bytes())
    subprocess.run([args.imjoy, "run", str(WORKFLOW), "--input", str(warm), *common], check=True, capture_output=True)
    collect_compute_times(data)

    def batch_run(folder, *extra):
        """One `imjoy run` over the images: (end-to-end seconds, the loop's wall seconds it reports, summary rows)."""
        start = time.perf_counter()
        batch = subprocess.run([args.imjoy, "run", str(WORKFLOW), "--input", str(images), "--output", str(out / folder),
                                *extra, *common], capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if batch.returncode != 0:
            sys.exit(f"imjoy run failed ({batch.returncode}):\n{batch.stderr}")
        loop = re.search(r"^\d+ inputs in ([\d.]+) s", batch.stderr, re.M)
        if not loop:
            sys.exit(f"imjoy run did not report its loop time:\n{batch.stderr}")
        in_run = collect_compute_times(data)
        if sorted(in_run) != ["Image Reader", "Nuclei Counter"] or any(len(t) != args.images for t in in_run.values()):
            sys.exit(f"the timed plugins logged {dict((k, len(v)) for k, v in in_run.items())} calls, not {args.images} each")
        with open(out / folder / "summary.csv") as summary:
            rows = list(csv.DictReader(summary))
        compute = sum(seconds for calls in in_run.values() for seconds, _ in calls)
        # The step with the most compute sets the pipeline's pace: its idle time per image is what the engine costs it.
        slowest = max(in_run, key=lambda label: sum(seconds for seconds, _ in in_run[label]))
        return elapsed, float(loop.group(1)), rows, compute, slowest, idle_between_images(in_run[slowest])

    pythons = sorted(data.glob("envs/*/bin/python"))
    if len(pythons) != 1:
        sys.exit(f"expected one plugin environment in {data / 'envs'}, found {pythons}")
    files = [str(images / name) for name in sorted(expected)]

    def rpc_only_run(folder):
        """The payload-only workflow, one image at a time: the loop's seconds."""
        batch = subprocess.run([args.imjoy, "run", str(rpc_only), "--input", str(images), "--output", str(out / folder),
                                "--sequential", *common], capture_output=True, text=True)
        loop = re.search(r"^\d+ inputs in ([\d.]+) s", batch.stderr, re.M)
        if batch.returncode != 0 or not loop:
            sys.exit(f"the payload-only run failed ({batch.returncode}):\n{batch.stderr}")
        return float(loop.group(1))

    def compute_run():
        """The plugins' own compute on every image, in one fresh Python process: {name: seconds}, {name: count}."""
        baseline = subprocess.run(
            [str(pythons[0]), "-c", BASELINE, str(REPO / "plugins" / "Image-Reader.imjoy.html"),
             str(REPO / "plugins" / "Nuclei-Counter.imjoy.html"), *files], capture_output=True, text=True, check=True)
        measured = json.loads(baseline.stdout)
        return dict(zip(sorted(expected), measured["seconds"])), measured["counts"]

    # Rounds of the three runs, interleaved, so that a slow spell of this shared machine hits all three alike;
    # each image's figure is its median over the rounds (a burst in one round does not move it).
    sequential_runs, pipelined_runs, compute_runs, rpc_only_runs = [], [], [], []
    rpc_only_run("results-rpc-only-warm-up")  # starts its two plugin processes' imports once
    for round_index in range(args.rounds):
        # One input at a time: the engine's and RPC's own cost per image, nothing hidden by overlap.
        sequential_runs.append(batch_run(f"results-sequential-{round_index}", "--sequential"))
        # The default: a pipeline (the next image is read while the previous one is counted).
        pipelined_runs.append(batch_run(f"results-{round_index}"))
        compute_runs.append(compute_run())
        # The same two steps and payloads without the compute.
        rpc_only_runs.append(rpc_only_run(f"results-rpc-only-{round_index}"))
    median = statistics.median
    end_to_end = median(run[0] for run in sequential_runs)
    loop_seconds = median(run[1] for run in sequential_runs)
    pipelined_end_to_end = median(run[0] for run in pipelined_runs)
    pipelined_seconds = median(run[1] for run in pipelined_runs)
    rows, pipelined_rows = sequential_runs[-1][2], pipelined_runs[-1][2]
    compute_by_image = {name: median(run[0][name] for run in compute_runs) for name in expected}
    compute_seconds = sum(compute_by_image.values())
    steps_seconds = median(sum(float(row["seconds"]) for row in run[2]) for run in sequential_runs)
    in_run_compute = median(run[3] for run in sequential_runs)
    correct = min(sum(1 for row in run[2] if int(row["count"]) == expected[row["input"]]) for run in sequential_runs)
    correct_pipelined = min(sum(1 for row in run[2] if int(row["count"]) == expected[row["input"]]) for run in pipelined_runs)
    same_counts = all(run[1][row["input"]] == int(row["count"]) for run in compute_runs for row in rows)
    # Each run against the compute its plugins logged in that run: the same moment, so the machine's drift cancels.
    overhead = median((sum(float(row["seconds"]) for row in run[2]) - run[3]) / sum(float(row["seconds"]) for row in run[2])
                      for run in sequential_runs)
    loop_overhead = median((run[1] - run[3]) / run[1] for run in sequential_runs)
    pipelined_shares = [(run[1] - run[3]) / run[1] for run in pipelined_runs]
    pipelined_share = median(pipelined_shares)
    pipelined_compute = median(run[3] for run in pipelined_runs)
    slowest_step = pipelined_runs[-1][4]
    slowest_idle = median(run[5] for run in pipelined_runs)
    slowest_idle_sequential = median(run[5] for run in sequential_runs)
    write_seconds = median(sum(float(row.get("write_seconds") or 0) for row in run[2]) for run in sequential_runs)
    rpc_only_seconds = median(rpc_only_runs)
    result = {
        "rpc_only_loop_s": rpc_only_seconds, "rpc_only_totals_s": rpc_only_runs,
        "rounds": args.rounds, "write_s": write_seconds, "pipelined_loop_s": pipelined_seconds,
        "pipelined_images_per_s": args.images / pipelined_seconds,
        "pipelined_share_beyond_compute": pipelined_share, "pipelined_end_to_end_s": pipelined_end_to_end,
        "pipelined_shares_beyond_compute": pipelined_shares, "pipelined_in_run_compute_s": pipelined_compute,
        "slowest_step": slowest_step, "slowest_step_idle_per_image_s": slowest_idle,
        "slowest_step_idle_per_image_sequential_s": slowest_idle_sequential,
        "counts_correct_pipelined": correct_pipelined,
        "images": args.images, "end_to_end_s": end_to_end, "loop_s": loop_seconds, "compute_s": compute_seconds,
        "steps_s": steps_seconds, "in_run_compute_s": in_run_compute, "images_per_s": args.images / loop_seconds,
        "compute_images_per_s": args.images / compute_seconds, "overhead_share": overhead,
        "loop_overhead_share": loop_overhead, "startup_s": end_to_end - loop_seconds, "counts_correct": correct,
        "same_counts_as_compute": same_counts,
        "loop_totals_s": [run[1] for run in sequential_runs], "pipelined_totals_s": [run[1] for run in pipelined_runs],
        "compute_totals_s": [sum(run[0].values()) for run in compute_runs],
        "compute_seconds_per_image": compute_by_image,
    }
    (out / "batch.json").write_text(json.dumps(result, indent=2))
    per_image_ms = lambda s: f"{s / args.images * 1000:.1f}"  # noqa: E731
    table = f"""## Batch workflow (`Benchmarks/batch_bench.sh`: {args.images} images through "count nuclei")

`imjoy run plugins/workflows/count-nuclei.imjoy.json --input images/ --output results/` (release build, its own
embedded engine) on {args.images} generated {args.size}×{args.size} nuclei images ({5 * (args.size // 256) ** 2}–{34 * (args.size // 256) ** 2} nuclei each), after a warm-up run that built
the environment; beside it, the same two plugins' `run` on the same images in the same environment, called directly
in one fresh Python process. The benchmark installs copies of the two plugins whose `run` logs how long the
plugin's own code took, so each run's overhead is its time against the compute its plugins logged in that same run
(this shared 2-core machine's speed drifts by tens of percent within minutes: against a separate baseline run the
share came out anywhere from -2 % to 38 % for the same build). The three runs take turns for {args.rounds} rounds;
figures are medians over the rounds. The target (engine and RPC overhead under 5 % of the total) is read on the
default run, the way `imjoy run` runs a workflow: its time against the compute its plugins did. `--sequential`
shows the engine's and RPC's whole cost per image with nothing overlapped; most of it is hypha-rpc's own work
inside the plugin processes (`Benchmarks/python_call_cost.py`: about 1.4 ms of CPU for an image's two calls).

| measurement | value |
|---|---:|
| the plugins' own compute, timed inside them during the `--sequential` runs (s) | {in_run_compute:.2f} ({per_image_ms(in_run_compute)} ms/image) |
| `imjoy run --sequential` (one image at a time): the images' time through both steps (s) | {steps_seconds:.2f} ({per_image_ms(steps_seconds)} ms/image) |
| share of that time outside the plugins' compute (engine, RPC, CLI, with nothing overlapped) | {overhead * 100:.1f} % |
| `imjoy run --sequential`, loop time (s; results written while the next image runs) | {loop_seconds:.2f} ({per_image_ms(loop_seconds)} ms/image, {loop_overhead * 100:.1f} % beyond the compute) |
| time writing the masks and tables, off the images' path (s) | {write_seconds:.2f} |
| `imjoy run` (default: a pipeline; each step has its next image queued while it works), loop time (s) | {pipelined_seconds:.2f} ({per_image_ms(pipelined_seconds)} ms/image) |
| the plugins' own compute, timed inside them during the default runs (s) | {pipelined_compute:.2f} ({per_image_ms(pipelined_compute)} ms/image) |
| **default run's time beyond its plugins' compute** (target < 5 %; negative: the overlap gains more than the engine costs) | **{pipelined_share * 100:.1f} %** |
| the same, each round | {" / ".join(f"{share * 100:.1f} %" for share in pipelined_shares)} |
| {slowest_step}, the slowest step, idle between two images (ms, median): default / `--sequential` | {slowest_idle * 1000:.2f} / {slowest_idle_sequential * 1000:.2f} |
| the same two steps with the same payloads (image, mask, 20-row table) and no compute, `--sequential` (s) | {rpc_only_seconds:.2f} ({per_image_ms(rpc_only_seconds)} ms/image: what the engine, RPC and CLI cost per image) |
| the same plugins called directly in one Python process, no engine (s) | {compute_seconds:.2f} ({per_image_ms(compute_seconds)} ms/image) |
| images/s: plugins called directly / `--sequential` / default | {args.images / compute_seconds:.1f} / {args.images / loop_seconds:.1f} / {args.images / pipelined_seconds:.1f} |
| start-up: embedded engine, two plugin processes, shutdown (s, `--sequential` run) | {end_to_end - loop_seconds:.2f} |
| end to end (s): `--sequential` / default | {end_to_end:.2f} / {pipelined_end_to_end:.2f} |
| loop totals of the rounds (s): direct compute / `--sequential` / default / no compute | {" ".join(f"{t:.2f}" for t in result["compute_totals_s"])} / {" ".join(f"{t:.2f}" for t in result["loop_totals_s"])} / {" ".join(f"{t:.2f}" for t in result["pipelined_totals_s"])} / {" ".join(f"{t:.2f}" for t in rpc_only_runs)} |
| counts equal to the generated number: `--sequential` / default | {correct} / {args.images}, {correct_pipelined} / {args.images} |
| counts equal to the baseline's | {"yes" if same_counts else "no"} |
"""
    (out / "batch.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
