"""Batch benchmark of the demo workflow (run by Benchmarks/batch_bench.sh).

Generates N nuclei images with known counts, runs them through `imjoy run plugins/workflows/count-nuclei.imjoy.json`
(after a warm-up run that builds the plugins' environment), then runs the same two plugins' `run` functions on the
same images directly in that environment, in one fresh Python process (so both pay the same lazy imports), and
reports images/s and the share of the batch's time spent outside the plugins' own compute."""
import argparse
import csv
import json
import re
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--imjoy", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--cache-dir", required=True)
    parser.add_argument("--size", type=int, default=256, help="Image side in pixels.")
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

    warm = out / "warm-up"
    warm.mkdir()
    for name in sorted(expected)[:3]:
        (warm / name).write_bytes((images / name).read_bytes())
    subprocess.run([args.imjoy, "run", str(WORKFLOW), "--input", str(warm), *common], check=True, capture_output=True)

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
        with open(out / folder / "summary.csv") as summary:
            return elapsed, float(loop.group(1)), list(csv.DictReader(summary))

    # One input at a time: the engine's and RPC's own cost per image, nothing hidden by overlap.
    end_to_end, loop_seconds, rows = batch_run("results-sequential", "--sequential")
    # The default: a pipeline (the next image is read while the previous one is counted).
    pipelined_end_to_end, pipelined_seconds, pipelined_rows = batch_run("results")
    correct = sum(1 for row in rows if int(row["count"]) == expected[row["input"]])
    correct_pipelined = sum(1 for row in pipelined_rows if int(row["count"]) == expected[row["input"]])

    pythons = sorted(data.glob("envs/*/bin/python"))
    if len(pythons) != 1:
        sys.exit(f"expected one plugin environment in {data / 'envs'}, found {pythons}")
    files = [str(images / name) for name in sorted(expected)]
    baseline = subprocess.run(
        [str(pythons[0]), "-c", BASELINE, str(REPO / "plugins" / "Image-Reader.imjoy.html"),
         str(REPO / "plugins" / "Nuclei-Counter.imjoy.html"), *files], capture_output=True, text=True, check=True)
    compute = json.loads(baseline.stdout)
    compute_seconds = sum(compute["seconds"])
    same_counts = all(compute["counts"][row["input"]] == int(row["count"]) for row in rows)
    overhead = (loop_seconds - compute_seconds) / loop_seconds
    write_seconds = sum(float(row.get("write_seconds") or 0) for row in rows)
    pipelined_share = (pipelined_seconds - compute_seconds) / pipelined_seconds
    result = {
        "write_s": write_seconds, "pipelined_loop_s": pipelined_seconds, "pipelined_images_per_s": args.images / pipelined_seconds,
        "pipelined_share_beyond_compute": pipelined_share, "pipelined_end_to_end_s": pipelined_end_to_end,
        "counts_correct_pipelined": correct_pipelined,
        "images": args.images, "end_to_end_s": end_to_end, "loop_s": loop_seconds, "compute_s": compute_seconds,
        "images_per_s": args.images / loop_seconds, "compute_images_per_s": args.images / compute_seconds,
        "overhead_share": overhead, "startup_s": end_to_end - loop_seconds, "counts_correct": correct,
        "same_counts_as_compute": same_counts,
        "loop_seconds_per_image": [float(row["seconds"]) for row in rows],
        "compute_seconds_per_image": compute["seconds"],
    }
    (out / "batch.json").write_text(json.dumps(result, indent=2))
    per_image_ms = lambda s: f"{s / args.images * 1000:.1f}"  # noqa: E731
    table = f"""## Batch workflow (`Benchmarks/batch_bench.sh`: {args.images} images through "count nuclei")

`imjoy run plugins/workflows/count-nuclei.imjoy.json --input images/ --output results/` (release build, its own
embedded engine) on {args.images} generated 256×256 nuclei images ({5 * (args.size // 256) ** 2}–{34 * (args.size // 256) ** 2} nuclei each), after a warm-up run that built
the environment; beside it, the same two plugins' `run` on the same images in the same environment, called directly
in one fresh Python process (the baseline: the plugins' own compute, lazy imports included in both).

| measurement | value |
|---|---:|
| plugins' own compute, same images, one after the other (s) | {compute_seconds:.2f} ({per_image_ms(compute_seconds)} ms/image) |
| `imjoy run --sequential` (one image at a time), loop time (s) | {loop_seconds:.2f} ({per_image_ms(loop_seconds)} ms/image) |
| **share of that time outside the plugins' compute** (engine, RPC, CLI; target < 5 %) | **{overhead * 100:.1f} %** |
| of which writing the masks and tables (s) | {write_seconds:.2f} |
| `imjoy run` (default: a pipeline, one image per step in flight), loop time (s) | {pipelined_seconds:.2f} ({per_image_ms(pipelined_seconds)} ms/image) |
| images/s: compute only / `--sequential` / default | {args.images / compute_seconds:.1f} / {args.images / loop_seconds:.1f} / {args.images / pipelined_seconds:.1f} |
| default run's time beyond the plugins' sequential compute (negative: the overlap gains more than the engine costs) | {pipelined_share * 100:.1f} % |
| start-up: embedded engine, two plugin processes, shutdown (s, `--sequential` run) | {end_to_end - loop_seconds:.2f} |
| end to end (s): `--sequential` / default | {end_to_end:.2f} / {pipelined_end_to_end:.2f} |
| counts equal to the generated number: `--sequential` / default | {correct} / {args.images}, {correct_pipelined} / {args.images} |
| counts equal to the baseline's | {"yes" if same_counts else "no"} |
"""
    (out / "batch.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
