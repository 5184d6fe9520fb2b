// Starts a browser plugin inside its sandboxed frame or its worker: connects to the engine as the plugin's own
// client, builds `api` (plugin-api.js), loads the plugin's JS requirements, then runs its script.

import { connectToServer } from "./hypha.js";
import { makePluginApi } from "./plugin-api.js";

const inWorker = typeof document === "undefined";

/** Loads a classic script: a `<script>` tag in a frame, fetch + global eval in a (module) worker. */
async function loadScript(url) {
  if (inWorker) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
    (0, eval)(await response.text());
    return;
  }
  await new Promise((resolve, reject) => {
    const tag = document.createElement("script");
    tag.src = url;
    tag.onload = resolve;
    tag.onerror = () => reject(new Error(`cannot load ${url}`));
    document.head.append(tag);
  });
}

/**
 * Runs a plugin.
 * @param {{origin: string, token: string, clientId: string, workspace: string, name: string, tag: ?string,
 *          scripts: string[], script: string}} settings
 */
export async function startPlugin(settings) {
  for (const url of settings.scripts ?? []) await loadScript(url);
  const server = await connectToServer({
    server_url: settings.origin, token: settings.token, workspace: settings.workspace, client_id: settings.clientId,
  });
  globalThis.api = makePluginApi(server, { name: settings.name, tag: settings.tag });
  globalThis.imjoy = { api: globalThis.api };
  if (inWorker) {
    (0, eval)(settings.script);
  } else {
    const tag = document.createElement("script");
    tag.textContent = settings.script;
    document.body.append(tag);
  }
}

/**
 * Runs a `web-python` plugin in Pyodide (loaded from `settings.pyodideURL`): installs its Python packages with
 * micropip, offers `from imjoy import api` (and `imjoy_rpc`), and exports the Python plugin object's methods.
 * @param {object} settings as for `startPlugin`, plus `pyodideURL` and `packages`
 */
export async function startPythonPlugin(settings) {
  const { loadPyodide } = await import(settings.pyodideURL + "pyodide.mjs");
  const pyodide = await loadPyodide({ indexURL: settings.pyodideURL });
  if (settings.packages?.length) {
    await pyodide.loadPackage("micropip");
    await pyodide.pyimport("micropip").install(settings.packages);
  }
  const server = await connectToServer({
    server_url: settings.origin, token: settings.token, workspace: settings.workspace, client_id: settings.clientId,
  });
  const api = makePluginApi(server, { name: settings.name, tag: settings.tag });
  const toJs = (value) => (value?.toJs ? value.toJs({ dict_converter: Object.fromEntries }) : value);
  const pythonApi = {
    ...api,
    /** Exposes the public methods of a Python object; arguments arrive as Python values, results go back as JS. */
    export: async (object) => {
      const names = toJs(pyodide.globals.get("dir")(object)).filter((name) => !name.startsWith("_"));
      const methods = {};
      for (const name of names) {
        const member = object[name];
        if (typeof member !== "function") continue;
        methods[name] = async (...args) => toJs(await member(...args.map((arg) => pyodide.toPy(arg))));
      }
      return api.export(methods);
    },
  };
  pyodide.registerJsModule("imjoy", { api: pythonApi });
  pyodide.registerJsModule("imjoy_rpc", { api: pythonApi });
  await pyodide.runPythonAsync(settings.script);
}
