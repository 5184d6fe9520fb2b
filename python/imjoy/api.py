"""The `api` object a Python plugin sees (IMJOY-PLUGINS.md §2), implemented over a hypha-rpc connection."""
import asyncio
import inspect
import json
import time
import os
import sys
import traceback

from .ordered import WORKFLOW_CALLS_IN_ORDER, in_order, is_in_order


def _schedule(coroutine):
    """Run `coroutine` now and return an awaitable: plugins may call `api.log(...)` with or without `await`."""
    future = asyncio.ensure_future(coroutine)
    future.add_done_callback(_swallow)
    return future


def _swallow(future):
    if not future.cancelled() and future.exception() is not None:
        print(f"[imjoy] api call failed: {future.exception()}", file=sys.stderr, flush=True)


def service_id(name):
    """The service id a plugin is registered under (its name with spaces and dots replaced)."""
    return "".join("_" if c in " .:/" else c for c in name)


def _public_members(obj):
    """The functions and plain values a plugin exports (names starting with `_` stay private)."""
    if isinstance(obj, dict):
        items = obj.items()
    else:
        items = ((name, getattr(obj, name)) for name in dir(obj))
    members = {}
    for name, value in items:
        if name.startswith("_"):
            continue
        if callable(value) or isinstance(value, (str, int, float, bool, type(None), list, dict)):
            members[name] = value
    return members


class ImJoyAPI:
    """What `from imjoy import api` gives a plugin: export, ops, UI calls, other plugins, config, attachments."""

    def __init__(self, server, plugin):
        self._server = server
        self._plugin = plugin
        self._exported = None
        self._ui = None
        self._ui_checked = -1e9  # when we last looked for the web app (monotonic seconds)
        self._ops = {}
        self._ordered = {}
        self.TAG = plugin.get("tag")
        self.WORK_DIR = plugin.get("work_dir") or os.getcwd()
        self.WORKSPACE = server.config.workspace
        self.ENGINE_URL = plugin.get("server_url")
        self.FILE_MANAGER_URL = None
        self.config = {"name": plugin["name"], "tag": self.TAG, "workspace": self.WORKSPACE, "work_dir": self.WORK_DIR}
        self.utils = _Utils()
        for camel, snake in _ALIASES:
            setattr(self, snake, getattr(self, camel))

    # -- export and lifecycle ------------------------------------------------------------------------------------

    def export(self, obj, config=None):
        """Publish the plugin's API; the runner calls `setup()` and registers it once the script has run."""
        self._exported = obj
        return _done(None)

    def init(self, config=None):
        """Export a minimal API (for helper plugins that only serve others)."""
        return self.export({"setup": lambda: None})

    async def _finish_export(self):
        members = _public_members(self._exported)
        setup = members.get("setup")
        if setup is not None:
            result = setup()
            if inspect.isawaitable(result):
                await result
        service = {
            "id": service_id(self._plugin["name"]),
            "name": self._plugin["name"],
            "type": "imjoy-plugin",
            "description": self._plugin.get("description") or "",
            "config": {"visibility": "protected"},
        }
        for name, value in members.items():
            if name != "setup":
                service[name] = self._in_order(value) if name == "run" and callable(value) else value
        service["config"][WORKFLOW_CALLS_IN_ORDER] = is_in_order(service.get("run"))
        await self._server.register_service(service, {"overwrite": True})
        return service["id"]

    def _in_order(self, function):
        """`function` taking one workflow run's calls one at a time (see `ordered`); the same wrapper for the same
        function, so the plugin's `run` and an op that uses it share one queue."""
        try:
            wrapped = self._ordered.get(function)
        except TypeError:  # an unhashable callable object
            return in_order(function)
        if wrapped is None:
            wrapped = self._ordered[function] = in_order(function)
        return wrapped

    async def _exit(self):
        members = _public_members(self._exported) if self._exported is not None else {}
        exit_function = members.get("exit")
        if exit_function is not None:
            result = exit_function()
            if inspect.isawaitable(result):
                await result

    # -- ops -----------------------------------------------------------------------------------------------------

    def register(self, config=None, **kwargs):
        """Register an op (`{name, ui, run, inputs, outputs}`; a missing `type` means operator)."""
        config = dict(config or {}, **kwargs)
        return _schedule(self._register(config))

    async def _register(self, config):
        name = config.get("name") or self._plugin["name"]
        kind = config.get("type", "operator")
        run = config.get("run")
        if run is None and self._exported is not None:
            run = _public_members(self._exported).get("run")
        op = {
            "id": f"{service_id(self._plugin['name'])}__{service_id(name)}",
            "name": name,
            "type": kind,
            "ui": config.get("ui") or "",
            "inputs": config.get("inputs"),
            "outputs": config.get("outputs"),
            "plugin": self._plugin["name"],
            "config": {"visibility": "protected"},
        }
        if run is not None:
            op["run"] = self._in_order(run) if callable(run) else run
        op["config"][WORKFLOW_CALLS_IN_ORDER] = is_in_order(op.get("run"))
        if callable(config.get("update")):
            op["update"] = config["update"]
        await self._server.register_service(op, {"overwrite": True})
        self._ops[name] = op["id"]
        return op["id"]

    def unregister(self, name):
        """Remove an op registered with `register`."""
        op_id = self._ops.pop(name, None)
        if op_id is None:
            return _done(None)
        return _schedule(self._server.unregister_service(op_id))

    # -- messages and UI -------------------------------------------------------------------------------------------

    def log(self, *args):
        """Add a line to the plugin's log."""
        print(" ".join(str(a) for a in args), flush=True)
        return _done(None)

    def error(self, *args):
        """Add an error line to the plugin's log."""
        print(" ".join(str(a) for a in args), file=sys.stderr, flush=True)
        return _done(None)

    def alert(self, message):
        return self._ui_call("alert", message)

    def prompt(self, question, default=None):
        return self._ui_call("prompt", question, default)

    def confirm(self, question):
        return self._ui_call("confirm", question)

    def showMessage(self, message, duration=None):
        return self._ui_call("showMessage", message, duration)

    def showSnackbar(self, message, duration=None):
        return self._ui_call("showSnackbar", message, duration)

    def showStatus(self, text):
        return self._ui_call("showStatus", text)

    def showProgress(self, progress):
        return self._ui_call("showProgress", progress)

    def progress(self, progress):
        return self._ui_call("progress", progress)

    def createWindow(self, config=None, **kwargs):
        return self._ui_call("createWindow", dict(config or {}, **kwargs))

    def showDialog(self, config=None, **kwargs):
        return self._ui_call("showDialog", dict(config or {}, **kwargs))

    def getWindow(self, name):
        return self._ui_call("getWindow", name)

    def _ui_call(self, method, *args):
        return _schedule(self._call_ui(method, [a for a in args if a is not None]))

    async def _call_ui(self, method, args):
        for _ in range(2):
            ui = await self._find_ui()
            if ui is None or method not in ui:
                break
            try:
                return await ui[method](*args)
            except Exception as error:
                if "not connected" not in str(error) and "not found" not in str(error).lower():
                    raise
                # That app page went away (a reload, a closed tab): look for the current one and try once more.
                self._ui = None
                self._ui_checked = -1e9
        text = args[0] if args else ""
        if isinstance(text, dict):
            text = text.get("content") or text.get("name") or json.dumps(text, default=str)
        print(f"[{method}] {text}", flush=True)
        if method == "prompt":
            return args[1] if len(args) > 1 else None
        if method == "confirm":
            return False
        return None

    async def _find_ui(self):
        """The web app's UI service in this workspace, if one is connected (else UI calls become log lines)."""
        now = time.monotonic()
        if self._ui is None and now - self._ui_checked > 2:
            self._ui_checked = now
            try:
                # The newest app wins when several are open (or one just reloaded and the old page is leaving).
                self._ui = await self._server.get_service("imjoy-ui", {"mode": "last"})
            except Exception:
                self._ui = None
        return self._ui

    # -- other plugins ------------------------------------------------------------------------------------------------

    def getPlugin(self, name):
        """Another plugin of the workspace, by name (its exported functions)."""
        return _schedule(self._plugin_service(name if isinstance(name, str) else name["name"]))

    async def _plugin_service(self, name):
        # Several clients of a workspace may each run their own instance of a plugin: any of them will do.
        return await self._server.get_service(service_id(name), {"mode": "last"})

    def run(self, name, ctx=None):
        """Run another plugin's `run(ctx)`."""
        return _schedule(self._run(name, ctx or {}))

    async def _run(self, name, ctx):
        plugin = await self._plugin_service(name)
        return await plugin.run(ctx)

    def call(self, name, function, *args):
        """Call a function another plugin exported."""
        return _schedule(self._call(name, function, args))

    async def _call(self, name, function, args):
        plugin = await self._plugin_service(name)
        return await plugin[function](*args)

    # -- config and attachments ---------------------------------------------------------------------------------------

    def getConfig(self, key=None):
        """A value saved with `setConfig` (kept across restarts, in the engine's database), or all of them."""
        if not self._plugin.get("config_file"):
            return _schedule(self._engine_config("get_config", key))
        values = self._read_config()
        return _done(values if key is None else values.get(key))

    def setConfig(self, key, value=None):
        """Save a value for this plugin; `setConfig({...})` saves several."""
        if not self._plugin.get("config_file"):
            return _schedule(self._engine_config("set_config", key, value))
        values = self._read_config()
        if isinstance(key, dict):
            values.update(key)
        else:
            values[key] = value
        path = self._plugin.get("config_file")
        if path:
            temporary = path + ".tmp"
            with open(temporary, "w") as f:
                json.dump(values, f)
            os.replace(temporary, path)
        return _done(None)

    async def _engine_config(self, method, *args):
        engine = await self._server.get_service("public/plugin-engine")
        name = self._plugin.get("name")
        if method == "set_config" and isinstance(args[0], dict):
            return await engine.set_config(name, args[0])
        if method == "set_config":
            return await engine.set_config(name, args[0], args[1])
        return await engine.get_config(name, args[0])

    def _read_config(self):
        path = self._plugin.get("config_file")
        if not path or not os.path.exists(path):
            return {}
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def getAttachment(self, name):
        """The text of an `<attachment name="…">` block of the plugin file."""
        return _done(self._plugin.get("attachments", {}).get(name))

    def __getattr__(self, name):
        raise AttributeError(
            f"api.{name} does not exist in this ImJoy engine's Python API; see the plugin API documentation"
        )


class _Utils:
    """`api.utils` of the legacy engine."""

    def kill(self, process):
        process.kill()

    def debounce(self, function, wait=0.3):
        handle = {}

        def debounced(*args, **kwargs):
            if "timer" in handle:
                handle["timer"].cancel()
            loop = asyncio.get_event_loop()
            handle["timer"] = loop.call_later(wait, lambda: function(*args, **kwargs))

        return debounced

    def set_interval(self, function, interval):
        loop = asyncio.get_event_loop()

        def tick():
            function()
            handle["timer"] = loop.call_later(interval, tick)

        handle = {"timer": loop.call_later(interval, tick)}
        return lambda: handle["timer"].cancel()


def _done(value):
    """An already-resolved awaitable, so `await api.x()` and `api.x()` both work."""
    future = asyncio.get_event_loop().create_future()
    future.set_result(value)
    return future


_ALIASES = [
    ("showMessage", "show_message"),
    ("showSnackbar", "show_snackbar"),
    ("showStatus", "show_status"),
    ("showProgress", "show_progress"),
    ("createWindow", "create_window"),
    ("showDialog", "show_dialog"),
    ("getWindow", "get_window"),
    ("getPlugin", "get_plugin"),
    ("getConfig", "get_config"),
    ("setConfig", "set_config"),
    ("getAttachment", "get_attachment"),
]
