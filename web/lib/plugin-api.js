// The `api` object of browser plugins (window, iframe, web-worker): the ImJoy plugin API (IMJOY-PLUGINS.md §2),
// on a connection of the plugin's own, in its workspace. UI calls go to the web app's `imjoy-ui` service.

/** Service ids use `_` for spaces, as ImJoy plugin ids do. */
const pluginId = (name) => String(name).replace(/ /g, "_");

/** Public methods of a plugin object (own and inherited, not the constructor or `_private`). */
function methodsOf(object) {
  const methods = {};
  for (let current = object; current && current !== Object.prototype; current = Object.getPrototypeOf(current)) {
    for (const key of Object.getOwnPropertyNames(current)) {
      if (key === "constructor" || key.startsWith("_") || key in methods) continue;
      if (typeof object[key] === "function") methods[key] = object[key].bind(object);
    }
  }
  return methods;
}

/**
 * Builds the plugin `api` for `server` (a `connectToServer` result).
 * @param {object} server the plugin's connection
 * @param {{name: string, tag?: string}} plugin
 */
export function makePluginApi(server, plugin) {
  let ui = null;
  let engine = null;
  const uiCall = async (method, ...args) => {
    ui ??= await server.getService("imjoy-ui");
    return ui[method](...args);
  };
  const pluginEngine = async () => (engine ??= await server.getService("public/plugin-engine"));
  const api = {
    TAG: plugin.tag ?? null,
    WORKSPACE: server.config?.workspace ?? null,
    /** As in Python plugins: the plugin's name, the tag it was installed in, its workspace. */
    config: { name: plugin.name, tag: plugin.tag ?? null, workspace: server.config?.workspace ?? null },
    /** Exposes the plugin's methods (`setup`, `run`, …) as its service; the app then calls `setup`. */
    export: async (object) => {
      await server.registerService({
        id: "default", name: plugin.name, type: "imjoy-plugin", config: { visibility: "protected" },
        ...methodsOf(object),
      });
      globalThis.parent?.postMessage?.({ type: "imjoy-plugin-ready", name: plugin.name }, "*");
    },
    alert: (message) => uiCall("alert", message),
    confirm: (message) => uiCall("confirm", message),
    prompt: (question, value) => uiCall("prompt", question, value),
    showMessage: (message, duration) => uiCall("showMessage", message, duration),
    showSnackbar: (message, duration) => uiCall("showMessage", message, duration),
    showStatus: (text) => uiCall("showStatus", text),
    showProgress: (value) => uiCall("showProgress", value),
    createWindow: (config) => uiCall("createWindow", config),
    showDialog: (config) => uiCall("showDialog", config),
    log: (...args) => console.log(`[${plugin.name}]`, ...args),
    error: (...args) => console.warn(`[${plugin.name}]`, ...args),
    /** Another plugin's API: a running one by its service, else the engine starts it (native-python). */
    getPlugin: async (name) => {
      try {
        return await server.getService(`${pluginId(name)}`, { mode: "last" });
      } catch {
        return (await pluginEngine()).start(name);
      }
    },
    run: async (name, ctx = { config: {}, data: {} }) => (await api.getPlugin(name)).run(ctx),
    call: async (name, method, ...args) => (await api.getPlugin(name))[method](...args),
    getConfig: async (key) => (await pluginEngine()).get_config(plugin.name, key ?? null),
    setConfig: async (key, value) => (await pluginEngine()).set_config(plugin.name, key, value),
  };
  for (const [alias, name] of [["show_message", "showMessage"], ["show_status", "showStatus"],
    ["show_progress", "showProgress"], ["create_window", "createWindow"], ["get_plugin", "getPlugin"],
    ["get_config", "getConfig"], ["set_config", "setConfig"]]) api[alias] = api[name];
  return api;
}
