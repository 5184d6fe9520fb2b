"""`imjoy run`: the demo workflow "count nuclei" over a folder of generated images (exact counts known), ops with
--set, and the one-line errors and exit codes of a wrong flag, a missing file, an unreachable --server and a
failing plugin."""
import csv
import struct
import subprocess
import time
import zlib
from pathlib import Path

import numpy as np

from conftest import REPO, binary

WORKFLOW = REPO / "plugins" / "workflows" / "count-nuclei.imjoy.json"


def imjoy(*arguments, timeout=900):
    return subprocess.run([binary(), *map(str, arguments)], capture_output=True, text=True, timeout=timeout)


def write_png(path, image):
    """An 8-bit grayscale PNG, written with zlib only (the test venv has no imaging library)."""
    height, width = image.shape
    raw = b"".join(b"\x00" + image[row].tobytes() for row in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def blur(image, sigma):
    radius = int(3 * sigma)
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-(x ** 2) / (2 * sigma ** 2))
    kernel /= kernel.sum()
    rows = np.apply_along_axis(lambda r: np.convolve(r, kernel, mode="same"), 1, image)
    return np.apply_along_axis(lambda c: np.convolve(c, kernel, mode="same"), 0, rows)


def nuclei_image(count, seed, shape=(200, 240)):
    """`count` separated bright ellipses, blurred, plus noise: generated here, independently of the plugins."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    image = np.zeros(shape)
    placed = []
    while len(placed) < count:
        r = rng.uniform(5, 9)
        y, x = rng.uniform(r + 4, shape[0] - r - 4), rng.uniform(r + 4, shape[1] - r - 4)
        if any((y - py) ** 2 + (x - px) ** 2 < (r + pr + 7) ** 2 for py, px, pr in placed):
            continue
        placed.append((y, x, r))
        angle, ratio = rng.uniform(0, np.pi), rng.uniform(0.6, 1.0)
        dy, dx = yy - y, xx - x
        u = dx * np.cos(angle) + dy * np.sin(angle)
        v = -dx * np.sin(angle) + dy * np.cos(angle)
        image[(u / r) ** 2 + (v / (r * ratio)) ** 2 <= 1] = rng.uniform(0.6, 1.0)
    image = blur(image, 1.5) + rng.normal(0, 0.05, shape)
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


def test_count_nuclei_workflow_over_a_folder(tmp_path, cache_dir):
    images = tmp_path / "images"
    images.mkdir()
    expected = {"nuclei-03": 3, "nuclei-08": 8, "nuclei-13": 13, "nuclei-21": 21, "nuclei-34": 34}
    for seed, (name, count) in enumerate(expected.items()):
        write_png(images / f"{name}.png", nuclei_image(count, seed))
    out = tmp_path / "out"
    result = imjoy("run", WORKFLOW, "--input", images, "--output", out,
                   "--data-dir", tmp_path / "data", "--cache-dir", cache_dir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["INPUT", "STATUS", "SECONDS", "NAME", "DTYPE", "COUNT", "THRESHOLD", "ERROR"]
    assert lines[-1] == "5 of 5 ok"
    with open(out / "summary.csv") as summary:
        rows = list(csv.DictReader(summary))
    assert [row["input"] for row in rows] == [f"{name}.png" for name in expected]
    for row in rows:
        stem = row["input"][: -len(".png")]
        count = int(row["count"])
        assert row["status"] == "ok"
        assert abs(count - expected[stem]) <= 0.05 * expected[stem], (stem, count)
        labels = np.load(out / f"{stem}_mask.npy")
        assert labels.shape == (200, 240) and labels.dtype == np.uint16
        assert len(np.unique(labels)) - 1 == count
        with open(out / f"{stem}_table.csv") as table:
            measured = list(csv.DictReader(table))
        assert len(measured) == count
        assert set(measured[0]) >= {"label", "area", "mean_intensity", "centroid_y", "centroid_x"}
        assert all(int(m["area"]) > 30 for m in measured)
    # Progress went to standard error, one line per input (not a terminal here).
    assert [line for line in result.stderr.splitlines() if line.startswith("[")][-1].startswith("[5/5] nuclei-34.png: ok")


def test_ops_with_settings_and_the_errors_of_a_failing_step(tmp_path, cache_dir):
    data = tmp_path / "data"
    common = ("--data-dir", data, "--cache-dir", cache_dir)
    generated = imjoy("run", REPO / "plugins" / "Nuclei-Counter.imjoy.html", "--op", "Synthetic Nuclei",
                      "--set", "count=7", "--set", "seed=3", "--output", tmp_path / "gen", *common)
    assert generated.returncode == 0, generated.stderr
    with open(tmp_path / "gen" / "summary.csv") as summary:
        rows = list(csv.DictReader(summary))
    assert [(r["input"], r["status"], r["name"], r["expected_count"]) for r in rows] == [
        ("Nuclei Counter", "ok", "synthetic-7-3", "7")]
    image = np.load(tmp_path / "gen" / "result_image.npy")
    np.save(tmp_path / "seven.npy", image)
    counted = imjoy("run", "Nuclei Counter", "--input", tmp_path / "seven.npy", "--set", "sigma=1.5", *common)
    assert counted.returncode == 2, counted.stdout  # "Nuclei Counter" reads ctx.data.image, not a path
    assert "Nuclei Counter needs an image in ctx.data['image'] (run Image Reader first)" in counted.stdout
    assert counted.stderr.splitlines()[-1] == "Error: 1 of 1 inputs failed (see the summary above)"


def test_usage_and_input_errors_are_one_line_with_documented_codes(tmp_path):
    wrong = imjoy("run", WORKFLOW, "--inptu", "x")
    assert wrong.returncode == 64
    assert wrong.stderr.splitlines()[0] == "Error: Unknown option '--inptu'. Did you mean '--input'?"
    missing = imjoy("run", WORKFLOW, "--input", tmp_path / "nowhere.png", "--data-dir", tmp_path / "d")
    assert (missing.returncode, missing.stderr) == (66, f"Error: no input file or folder at {tmp_path / 'nowhere.png'}\n")
    no_target = imjoy("run", tmp_path / "nothing.imjoy.json", "--data-dir", tmp_path / "d")
    assert (no_target.returncode, no_target.stderr) == (66, f"Error: no workflow or plugin file at {tmp_path / 'nothing.imjoy.json'}\n")
    unreachable = imjoy("run", WORKFLOW, "--server", "http://127.0.0.1:1", "--token", "t", "--data-dir", tmp_path / "d")
    assert unreachable.returncode == 69
    assert len(unreachable.stderr.splitlines()) == 1
    assert unreachable.stderr.startswith("Error: cannot use the engine at http://127.0.0.1:1: Could not connect to ws://127.0.0.1:1/ws")
    with_op = imjoy("run", WORKFLOW, "--op", "x")
    assert with_op.returncode == 64
    assert with_op.stderr.splitlines()[0] == "Error: --op cannot be used with a workflow: its steps name their ops"


def test_imjoy_new_makes_plugins_that_validate_and_a_native_one_runs(tmp_path, cache_dir):
    kinds = ["window", "web-worker", "iframe", "native-python", "web-python"]
    for kind in kinds:
        made = imjoy("new", kind, f"Fresh {kind}", "--output-dir", tmp_path)
        assert made.returncode == 0, made.stderr
        assert made.stdout.splitlines()[0] == f'created {tmp_path / f"Fresh-{kind}.imjoy.html"} ({kind} plugin "Fresh {kind}")'
    checked = imjoy("validate", tmp_path)
    assert checked.returncode == 0, checked.stdout
    assert sorted(checked.stdout.splitlines()) == sorted(f"ok Fresh {kind} {kind} 0.1.0" for kind in kinds)
    again = imjoy("new", "window", "Fresh window", "--output-dir", tmp_path)
    assert (again.returncode, again.stderr) == (1, f"Error: {tmp_path / 'Fresh-window.imjoy.html'} exists; pass --force to overwrite it\n")
    wrong = imjoy("new", "quantum-python", "X")
    assert wrong.returncode == 64
    assert wrong.stderr.splitlines()[0] == (
        "Error: 'quantum-python' is not a type `imjoy new` scaffolds; use one of window, web-worker, iframe, native-python, web-python")
    # Both Python types start and run headless (web-python on the engine's Python).
    for kind in ["native-python", "web-python"]:
        ran = imjoy("run", tmp_path / f"Fresh-{kind}.imjoy.html", "--set", "factor=3", "--output", tmp_path / kind,
                    "--data-dir", tmp_path / "data", "--cache-dir", cache_dir)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.splitlines()[-1] == "1 of 1 ok", ran.stdout
        with open(tmp_path / kind / "summary.csv") as summary:
            rows = list(csv.DictReader(summary))
        assert [(r["status"], r["factor"]) for r in rows] == [("ok", "3")]


HELP_COMMANDS = ["", "serve", "run", "new", "install", "list", "remove", "update", "validate", "token", "workspace", "worker"]


def test_help_of_the_main_commands_is_as_documented():
    """The whole --help text of each main command, against Tests/PluginEngine/golden/ (IMJOY_UPDATE_GOLDEN=1
    rewrites the files after a deliberate change; review the diff)."""
    import os

    for command in HELP_COMMANDS:
        arguments = [command, "--help"] if command else ["--help"]
        result = subprocess.run([binary(), *arguments], capture_output=True, text=True, timeout=60,
                                env={**os.environ, "COLUMNS": "100"})
        assert result.returncode == 0, result.stderr
        golden = Path(__file__).parent / "golden" / f"help-{command or 'imjoy'}.txt"
        if os.environ.get("IMJOY_UPDATE_GOLDEN") == "1":
            golden.write_text(result.stdout)
        assert result.stdout == golden.read_text(), f"imjoy {command} --help changed; see {golden}"


def test_a_swift_program_is_a_workflow_step_like_any_plugin(tmp_path, fresh_engine):
    """Examples/SwiftHistogram (ImJoyClient) offers "Swift Histogram"; a workflow chains the Image Reader plugin and
    it, and `imjoy run --server` runs that workflow against the engine both are connected to."""
    engine = fresh_engine()
    example = Path(binary()).parent / "swift-histogram"
    assert example.exists(), f"{example} is built by `swift build` (the swift-histogram product)"
    program = subprocess.Popen([str(example), "--server", engine.url, "--token", engine.admin_token],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = program.stdout.readline().strip()
        if not ready:  # it exited: say why
            program.wait(10)
            raise AssertionError(f"swift-histogram exited ({program.returncode}): {program.stderr.read()}")
        assert ready == "Swift Histogram is ready in workspace default"
        image = np.arange(64 * 48, dtype=np.uint16).reshape(64, 48)
        np.save(tmp_path / "ramp.npy", image)
        workflow = tmp_path / "histogram.imjoy.json"
        workflow.write_text('{"format": "imjoy-workflow", "version": 1, "name": "histogram", "steps": ['
                            '{"plugin": "Image Reader"}, {"plugin": "Swift Histogram", "config": {"bins": 8}}]}')
        result = imjoy("run", workflow, "--input", tmp_path / "ramp.npy", "--output", tmp_path / "out",
                       "--server", engine.url, "--token", engine.admin_token, "--set", "2.bins=4")
        assert result.returncode == 0, result.stderr
        with open(tmp_path / "out" / "summary.csv") as summary:
            row = next(csv.DictReader(summary))
        assert (row["status"], row["bins"], row["minimum"], row["maximum"]) == ("ok", "4", "0", "3071")
        assert float(row["mean"]) == image.mean()
        with open(tmp_path / "out" / "ramp_histogram.csv") as table:
            counts = [int(r["histogram"]) for r in csv.DictReader(table)]
        assert counts == [768, 768, 768, 768]
    finally:
        program.terminate()
        program.wait(10)


STEP = '''<config lang="json">{{"name": "{name}", "type": "native-python", "version": "0.1.0"}}</config>
<script lang="python">
import asyncio, json, os, time
from imjoy import api

class ImJoyPlugin:
    async def run(self, ctx):
        data = dict(ctx["data"])
        log = os.path.join(os.environ["WORK_DIR"], "pipeline.log")
        with open(log, "a") as f:
            f.write(json.dumps(["{name}", "start", data["name"], time.monotonic(), ctx.get("_workflow_id")]) + "\\n")
        await asyncio.sleep({delay})
        if "{name}" == "Step A" and data["name"] == "c.txt":
            raise ValueError("c is refused")
        with open(log, "a") as f:
            f.write(json.dumps(["{name}", "end", data["name"], time.monotonic()]) + "\\n")
        data.setdefault("seen", []).append("{name}")
        return data

api.export(ImJoyPlugin())
</script>'''



def two_step_workflow(tmp_path, names, delay_a, delay_b):
    """Installs Step A and Step B (STEP, each sleeping its delay), writes one input file per letter of `names` and
    a workflow of the two: (workflow file, inputs folder, data dir)."""
    return installed_workflow(
        tmp_path, names, [(name, STEP.format(name=name, delay=delay)) for name, delay in (("Step A", delay_a), ("Step B", delay_b))])


def installed_workflow(tmp_path, names, plugins):
    """Installs `plugins` ([(name, source)]), writes one input file per letter of `names` and a workflow of the
    plugins in that order: (workflow file, inputs folder, data dir)."""
    import json

    for name, source in plugins:
        (tmp_path / f"{name}.imjoy.html").write_text(source)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name in names:
        (inputs / f"{name}.txt").write_text(name)
    workflow = tmp_path / "steps.imjoy-workflow.json"
    workflow.write_text(json.dumps({"name": "steps", "steps": [{"plugin": name} for name, _ in plugins]}))
    data = tmp_path / "data"
    for name, _ in plugins:
        installed = imjoy("install", tmp_path / f"{name}.imjoy.html", "--data-dir", data)
        assert installed.returncode == 0, installed.stderr
    return workflow, inputs, data

def test_a_workflow_runs_as_a_pipeline_that_keeps_each_steps_input_order(tmp_path):
    """With two steps, the next input is in step 1 while the previous one is in step 2; each step still gets one
    input at a time, in input order, and a failing input does not hold up the ones after it."""
    import json

    workflow, inputs, data = two_step_workflow(tmp_path, "abcde", delay_a=0.3, delay_b=0.3)
    result = imjoy("run", workflow, "--input", inputs, "--data-dir", data)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert [line.split("]")[0] + "]" for line in lines] == [f"[{i}/5]" for i in range(1, 6)], "reported in input order"
    assert "c.txt: failed: Step A: ValueError: c is refused" in lines[2], lines[2]

    events = [json.loads(line) for line in next(data.rglob("pipeline.log")).read_text().splitlines()]
    for step in ("Step A", "Step B"):
        mine = [e for e in events if e[0] == step]
        starts = [e[2] for e in mine if e[1] == "start"]
        assert starts == sorted(starts), f"{step} got its inputs in order: {starts}"
        # One input at a time: every start follows the previous input's end (or failure).
        for previous, current in zip(mine, mine[1:]):
            assert not (previous[1] == "start" and current[1] == "start" and previous[2] != "c.txt"), mine
    assert [e[2] for e in events if e[0] == "Step B" and e[1] == "start"] == ["a.txt", "b.txt", "d.txt", "e.txt"]
    # The pipeline: Step A started b before Step B finished a.
    a_done_by_b = next(e[3] for e in events if e[:3] == ["Step B", "end", "a.txt"])
    b_started_by_a = next(e[3] for e in events if e[:3] == ["Step A", "start", "b.txt"])
    assert b_started_by_a < a_done_by_b

    # One input at a time (--sequential), each input's results written while the next one runs: a result that
    # cannot be written fails that input only, saying why, and the others' files are all there.
    out = tmp_path / "out"
    (out / "d_seen.csv").mkdir(parents=True)
    sequential = imjoy("run", workflow, "--input", inputs, "--output", out, "--sequential", "--data-dir", data)
    assert sequential.returncode == 2, sequential.stderr
    with open(out / "summary.csv") as summary:
        rows = {row["input"]: row for row in csv.DictReader(summary)}
    assert [rows[f"{name}.txt"]["status"] for name in "abcde"] == ["ok", "ok", "failed", "failed", "ok"]
    assert rows["d.txt"]["error"].startswith(f"cannot write {out / 'd_seen.csv'}"), rows["d.txt"]
    for name in "abe":
        assert (out / f"{name}_seen.csv").read_text() == "seen\nStep A\nStep B\n"
    assert not list(out.glob(".*.partial")), "files are written under a temporary name, then renamed"



def test_a_step_gets_its_next_input_while_it_works_and_still_runs_one_at_a_time(tmp_path):
    """The Python runtime queues one workflow run's calls, so `imjoy run` sends a step its next input before the
    current one is done: a slow step B never waits for a round trip between two inputs, a fast step A runs ahead
    by two inputs, and B still has one input at a time, in order. Every call's ctx has the run's `_workflow_id`."""
    import json

    workflow, inputs, data = two_step_workflow(tmp_path, "fghij", delay_a=0.05, delay_b=0.4)
    result = imjoy("run", workflow, "--input", inputs, "--data-dir", data)
    assert result.returncode == 0, result.stderr
    assert ", 4 in flight)" in result.stderr, result.stderr

    events = [json.loads(line) for line in next(data.rglob("pipeline.log")).read_text().splitlines()]
    b = [e for e in events if e[0] == "Step B"]
    assert [e[1:3] for e in b] == [[kind, f"{n}.txt"] for n in "fghij" for kind in ("start", "end")], b
    workflow_ids = {e[4] for e in events if e[1] == "start"}
    assert len(workflow_ids) == 1 and next(iter(workflow_ids)).startswith("imjoy-run-"), workflow_ids
    # A ran ahead: it started h (the third input) before B was done with f (the first). With one input per step
    # in flight, h would wait for f to leave B.
    f_done = next(e[3] for e in b if e[1:3] == ["end", "f.txt"])
    h_started = next(e[3] for e in events if e[:3] == ["Step A", "start", "h.txt"])
    assert h_started < f_done
    # --timeout keeps one input per step in flight (a queued call's wait would count against its limit).
    limited = imjoy("run", workflow, "--input", inputs, "--timeout", "60", "--data-dir", data)
    assert limited.returncode == 0 and ", 2 in flight)" in limited.stderr, limited.stderr


BLOB_STEP = '''<config lang="json">{"name": "Blob Maker", "type": "native-python", "version": "0.1.0"}</config>
<script lang="python">
from imjoy import api

class ImJoyPlugin:
    def run(self, ctx):
        data = dict(ctx["data"])
        # Every other input carries 1.5 MB: its call to the next step is sent in chunks (several round trips).
        data["blob"] = b"x" * (1_500_000 if data["name"] in ("l.txt", "n.txt") else 10)
        return data

api.export(ImJoyPlugin())
</script>'''

BUSY_STEP = '''<config lang="json">{"name": "Busy Step", "type": "native-python", "version": "0.1.0"}</config>
<script lang="python">
import json, os, time
from imjoy import api

class ImJoyPlugin:
    async def run(self, ctx):
        with open(os.path.join(os.environ["WORK_DIR"], "busy.log"), "a") as f:
            f.write(json.dumps([ctx["data"]["name"], len(ctx["data"]["blob"])]) + "\\n")
        time.sleep(0.2)  # holds its event loop: the next call's chunks wait until it is done
        return {"name": ctx["data"]["name"]}

api.export(ImJoyPlugin())
</script>'''


def test_a_chunked_input_is_not_overtaken_by_the_small_one_after_it(tmp_path):
    """A call large enough to be chunked is sent in several round trips, which a busy plugin answers only when it
    is done; the next (small) input waits until the large one is wholly sent, so the step sees them in order."""
    import json

    workflow, inputs, data = installed_workflow(tmp_path, "klmno", [("Blob Maker", BLOB_STEP), ("Busy Step", BUSY_STEP)])
    result = imjoy("run", workflow, "--input", inputs, "--data-dir", data)
    assert result.returncode == 0, result.stderr
    seen = [json.loads(line) for line in next(data.rglob("busy.log")).read_text().splitlines()]
    assert seen == [["k.txt", 10], ["l.txt", 1_500_000], ["m.txt", 10], ["n.txt", 1_500_000], ["o.txt", 10]], seen

BLOCKING = '''<config lang="json">{"name": "Blocking Step", "type": "native-python", "version": "0.1.0"}</config>
<script lang="python">
import time
from imjoy import api

class ImJoyPlugin:
    async def run(self, ctx):
        time.sleep(3)  # computes without returning to the event loop: no heartbeats meanwhile
        return {"slept": 3}

api.export(ImJoyPlugin())
</script>'''


def test_a_step_that_blocks_its_event_loop_runs_to_the_end_unless_timeout_says_otherwise(tmp_path):
    plugin = tmp_path / "Blocking Step.imjoy.html"
    plugin.write_text(BLOCKING)
    data = ("--data-dir", tmp_path / "data")
    limited = imjoy("run", plugin, "--timeout", "1", *data)
    assert limited.returncode == 2, limited.stderr
    assert "timed out" in limited.stdout.lower(), limited.stdout
    unlimited = imjoy("run", plugin, *data)
    assert unlimited.returncode == 0, unlimited.stdout + unlimited.stderr
    assert unlimited.stdout.splitlines()[-1] == "1 of 1 ok"
    bad = imjoy("run", plugin, "--timeout", "0", *data)
    assert bad.returncode == 64
    assert bad.stderr.splitlines()[0] == "Error: --timeout must be a positive number of seconds, not 0.0"


DYING = '''<config lang="json">{"name": "Dying Step", "type": "native-python", "version": "0.1.0"}</config>
<script lang="python">
import os
from imjoy import api

class ImJoyPlugin:
    async def run(self, ctx):
        print("about to die", flush=True)
        os._exit(3)

api.export(ImJoyPlugin())
</script>'''


def test_a_step_whose_plugin_dies_fails_at_once_without_a_time_limit(tmp_path):
    """With no --timeout the plugins are asked for no heartbeats: a plugin that dies mid-step must still end the
    step at once, with the reason, instead of leaving it waiting forever."""
    plugin = tmp_path / "Dying Step.imjoy.html"
    plugin.write_text(DYING)
    started = time.monotonic()
    died = imjoy("run", plugin, "--data-dir", tmp_path / "data")
    assert time.monotonic() - started < 60
    assert died.returncode == 2, died.stdout + died.stderr
    assert "Plugin 'Dying Step' crashed (exit code 3)" in died.stdout, died.stdout
    assert died.stderr.splitlines()[-1] == "Error: 1 of 1 inputs failed (see the summary above)"
