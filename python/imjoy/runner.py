"""Runs one native-python plugin for the imjoy engine: `python -m imjoy.runner PLUGIN_DIR`.

PLUGIN_DIR holds `plugin.json` (name, tag, attachments, config file, ...) and `plugin.py` (the plugin's
`<script lang="python">`). The connection comes from the environment: IMJOY_SERVER_URL, IMJOY_WORKSPACE,
IMJOY_TOKEN, IMJOY_CLIENT_ID. Progress is reported to the engine with status lines (imjoy.status).
"""
import asyncio
import json
import os
import signal
import sys
import threading
import time
import traceback

import linecache

import imjoy
from imjoy.api import ImJoyAPI
from imjoy.status import report

# Messages up to this size go as one frame instead of 256 KiB chunks (each chunk is a remote call). A hypha-rpc
# peer with default settings unpacks at most 512 000-byte frames (and the engine forwards nothing larger), so a
# message to any peer stays below that, with room for the routing header the engine rewrites.
LONG_MESSAGE_CHUNK_SIZE = 500_000


def _exit_with_parent(parent_pid):
    """Ends this process when the engine that started it is gone (even if it was killed without warning)."""

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(3)
        os._exit(1)

    threading.Thread(target=watch, name="imjoy-parent-watch", daemon=True).start()


async def main(plugin_dir):
    if os.environ.get("IMJOY_PARENT_PID", "").isdigit():
        _exit_with_parent(int(os.environ["IMJOY_PARENT_PID"]))
    with open(os.path.join(plugin_dir, "plugin.json")) as f:
        plugin = json.load(f)
    with open(os.path.join(plugin_dir, "plugin.py")) as f:
        script = f.read()
    plugin.setdefault("server_url", os.environ.get("IMJOY_SERVER_URL"))

    report("connecting")
    from hypha_rpc import connect_to_server

    server = await connect_to_server(
        {
            "server_url": os.environ["IMJOY_SERVER_URL"],
            "workspace": os.environ.get("IMJOY_WORKSPACE") or None,
            "token": os.environ.get("IMJOY_TOKEN") or None,
            "client_id": os.environ.get("IMJOY_CLIENT_ID") or None,
            "long_message_chunk_size": LONG_MESSAGE_CHUNK_SIZE,
        }
    )
    api = ImJoyAPI(server, plugin)
    imjoy.api = api

    report("script")
    filename = plugin.get("file", "plugin.py")
    namespace = {"__name__": "__main__", "__file__": filename, "api": api}
    try:
        exec(compile(_source_for_tracebacks(script, filename, plugin.get("script_line", 1)), filename, "exec"), namespace)
    except Exception as error:
        report("error", stage="script", message=f"{type(error).__name__}: {error}", traceback=_plugin_traceback(error))
        return 1
    if api._exported is None:
        report("error", stage="script", message="the plugin script never called api.export(...)", traceback="")
        return 1

    report("setup")
    try:
        service = await api._finish_export()
    except Exception as error:
        report("error", stage="setup", message=f"{type(error).__name__}: {error}", traceback=_plugin_traceback(error))
        return 1
    report("ready", service_id=service)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    try:
        await asyncio.wait_for(api._exit(), 1.0)
    except Exception:
        pass
    await server.disconnect()
    return 0


RUNTIME_DIR = os.path.dirname(os.path.abspath(imjoy.__file__))


def _plugin_traceback(error):
    """The traceback of `error` without the runtime's own frames above the plugin's code."""
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None and os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(RUNTIME_DIR):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb))


def _source_for_tracebacks(script, filename, first_line):
    """Pads the script so line numbers match the plugin file and registers it so tracebacks quote it."""
    source = "\n" * max(int(first_line) - 1, 0) + script
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return source


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m imjoy.runner PLUGIN_DIR", file=sys.stderr)
        sys.exit(64)
    sys.exit(asyncio.run(main(sys.argv[1])))
