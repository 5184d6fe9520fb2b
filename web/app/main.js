import { connectToServer } from "../lib/hypha.js";
import { BrowserPlugins } from "./browser-plugins.js";
import { errorText } from "./dom.js";
import { PluginEditor } from "./editor.js";
import { EnginePanel } from "./engine-panel.js";
import { FileDrop } from "./drop.js";
import { Feedback } from "./feedback.js";
import { InstallDialog } from "./install.js";
import { PluginPanel } from "./plugins.js";
import { WindowManager } from "./windows.js";
import { WorkflowPanel } from "./workflows.js";
import { WorkspaceMenu } from "./workspaces.js";

/**
 * The ImJoy web app: connects to the engine that serves it (with the token from `?token=`, kept for this tab
 * only), registers the `imjoy-ui` service plugins use for windows and messages, and wires the panels.
 */
async function start() {
  const params = new URLSearchParams(location.search);
  const feedback = new Feedback(document);
  const connection = document.getElementById("connection");
  const token = params.get("token") ?? params.get("t") ?? sessionStorage.getItem("imjoy-token");
  if (params.has("token") || params.has("t")) {
    sessionStorage.setItem("imjoy-token", token);
    params.delete("token");
    params.delete("t");
    history.replaceState(null, "", `${location.pathname}${params.size ? `?${params}` : ""}${location.hash}`);
  }
  const setState = (state, detail = "") => {
    connection.dataset.state = state;
    connection.textContent = detail ? `${state}: ${detail}` : state;
  };
  let server;
  try {
    server = await connectToServer({
      server_url: location.origin, token: token || undefined,
      workspace: params.get("workspace") ?? params.get("w") ?? undefined,
      on_state_change: ({ state, reason }) => setState(state, state === "connected" ? server?.config.workspace : reason),
    });
  } catch (error) {
    setState("disconnected", errorText(error));
    feedback.alert(`Cannot connect to the engine: ${errorText(error)}`);
    return;
  }
  setState("connected", server.config.workspace);
  document.title = `ImJoy · ${server.config.workspace}`;

  const engine = await server.getService("public/plugin-engine");
  let saveTimer = null;
  const windows = new WindowManager(document.getElementById("workspace"), {
    onChange: () => {
      clearTimeout(saveTimer);
      saveTimer = setTimeout(() => engine.set_layout(windows.layout()).catch(() => {}), 500);
    },
  });
  const browserPlugins = new BrowserPlugins({ server, engine, windows, feedback });
  windows.restore(await engine.get_layout().catch(() => null));
  const plugins = new PluginPanel(document.getElementById("plugin-list"), { engine, feedback, windows, browserPlugins, server });
  const panel = new EnginePanel({ engine, feedback, windows, plugins });
  const workflows = new WorkflowPanel({ engine, feedback, windows, plugins });
  const editor = new PluginEditor({ engine, windows, feedback, plugins, browserPlugins });
  plugins.editor = editor;
  new FileDrop(document.getElementById("workspace"), { engine, feedback, plugins, workflows });
  const installer = new InstallDialog({ engine, feedback, onInstalled: () => plugins.refresh(),
    onNew: () => editor.open() });
  const workspaces = new WorkspaceMenu({
    server, engine, feedback, current: server.config.workspace,
    select: document.getElementById("workspace-select"), button: document.getElementById("workspace-menu"),
  });

  await server.registerService(uiService(feedback, windows));
  await Promise.all([
    server.on("plugin_status", (event) => panel.onStatus(event?.data ?? event)),
    server.on("plugin_log", (event) => panel.onLog(event?.data ?? event)),
    server.on("plugin_installed", () => plugins.refresh()),
    server.on("plugin_uninstalled", () => plugins.refresh()),
    // Ops come and go with the plugins and programs that offer them.
    server.on("service_added", (event) => ((event?.data ?? event)?.type === "operator" ? plugins.refresh() : null)),
    server.on("service_removed", (event) => ((event?.data ?? event)?.type === "operator" ? plugins.refresh() : null)),
  ]);

  document.getElementById("open-install").addEventListener("click", () => installer.open());
  document.getElementById("open-engine").addEventListener("click", () => panel.open());
  document.getElementById("open-workflow").addEventListener("click", () => workflows.open());
  const toggle = document.getElementById("menu-toggle");
  toggle.addEventListener("click", () => {
    const hidden = document.getElementById("sidebar").classList.toggle("collapsed");
    toggle.setAttribute("aria-expanded", String(!hidden));
  });
  await Promise.all([plugins.refresh(), workspaces.refresh()]);

  // ImJoy's URL parameters: ?plugin= installs (after asking), ?start= runs a plugin once loaded.
  const wanted = params.get("plugin") ?? params.get("p");
  if (wanted && (await feedback.confirm(`Install the plugin ${wanted}?`))) await installer.install(wanted);
  const sharedWorkflow = params.get("workflow");
  if (sharedWorkflow) {
    try {
      await workflows.show(JSON.parse(sharedWorkflow));
    } catch (error) {
      feedback.showMessage(`The shared workflow could not be read: ${errorText(error)}`, 10);
    }
  }
  const startName = params.get("start") ?? params.get("s");
  if (startName) await plugins.run(startName, Object.fromEntries(params));

  globalThis.imjoyApp = { server, engine, windows, plugins, workflows, editor, feedback, ready: true };
  document.body.dataset.ready = "true";
}

/** The `imjoy-ui` service: what `api.alert`, `api.createWindow` … of every plugin in this workspace reach. */
function uiService(feedback, windows) {
  const describe = (handle) => ({ id: handle.id, name: handle.name, type: handle.type });
  return {
    id: "imjoy-ui", name: "ImJoy web app", type: "imjoy-ui", config: { visibility: "protected" },
    alert: (message) => feedback.alert(message),
    confirm: (message) => feedback.confirm(message),
    prompt: (question, defaultValue) => feedback.prompt(question, defaultValue),
    showMessage: (message, duration) => feedback.showMessage(message, duration),
    showSnackbar: (message, duration) => feedback.showMessage(message, duration),
    showStatus: (text) => feedback.showStatus(text),
    showProgress: (value) => feedback.showProgress(value),
    progress: (value) => feedback.showProgress(value),
    createWindow: (config) => describe(windows.create(config ?? {})),
    showDialog: (config) => describe(windows.create({ ...(config ?? {}), dialog: true })),
    getWindow: (id) => {
      const handle = windows.get(id);
      return handle ? describe(handle) : null;
    },
    setWindowData: (id, data) => windows.get(id)?.setData(data),
    closeWindow: (id) => windows.get(id)?.close(),
  };
}

start().catch((error) => {
  console.warn("The app could not start:", error);
  document.getElementById("connection").textContent = `error: ${errorText(error)}`;
});
