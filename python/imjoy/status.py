"""Status lines the runner prints for the engine's supervisor (one JSON object per line, with a marker)."""
import json
import sys

MARKER = "@@imjoy-status "


def report(phase, **fields):
    """Tell the engine which phase the plugin reached (connecting, script, setup, ready, error)."""
    fields["phase"] = phase
    sys.stdout.write(MARKER + json.dumps(fields, default=str) + "\n")
    sys.stdout.flush()
