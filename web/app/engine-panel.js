import { h, replaceChildren, errorText } from "./dom.js";

/**
 * The engine panel (a window): where plugins run (the engine and connected `imjoy worker`s, with a selector for
 * the host new native-python plugins start on), the workspace's native-python plugins with their host, state,
 * environment build progress and logs, and stop / restart buttons. Updated live from `plugin_status` and
 * `plugin_log` events.
 */
export class EnginePanel {
  constructor({ engine, feedback, windows, plugins }) {
    this.engine = engine;
    this.feedback = feedback;
    this.windows = windows;
    this.plugins = plugins;
    this.window = null;
    this.lastLines = new Map();
  }

  /** Opens (or focuses) the panel. */
  async open() {
    if (!this.window || !this.window.element.isConnected) {
      this.window = this.windows.create({ id: "engine-panel", type: "imjoy/engine", name: "Plugin engine", w: 6 });
    }
    await this.refresh();
    this.window.element.focus();
  }

  async refresh() {
    if (!this.window?.element.isConnected) return;
    const body = this.window.element.querySelector(".window-body");
    let rows;
    let hosts;
    try {
      rows = (await this.engine.list()).filter((plugin) => plugin.type === "native-python" || plugin.host);
      hosts = await this.engine.hosts();
    } catch (error) {
      replaceChildren(body, h("p", { class: "error-message" }, errorText(error)));
      return;
    }
    replaceChildren(body, this.hostSection(hosts), rows.length ? h("table", { class: "engine" },
      h("thead", {}, h("tr", {}, h("th", {}, "Plugin"), h("th", {}, "Host"), h("th", {}, "State"), h("th", {}, "Last output"), h("th", {}, ""))),
      h("tbody", {}, rows.map((plugin) => {
        const instance = plugin.instances?.[0];
        const state = instance ? `${instance.state}${instance.phase ? ` (${instance.phase})` : ""}` : (plugin.state ?? "stopped");
        return h("tr", { dataset: { name: plugin.name } },
          h("td", {}, plugin.name),
          h("td", { class: "host" }, plugin.host ?? (instance ? "local" : "")),
          h("td", { class: "state" }, state, instance?.error ? h("div", { class: "error-message" }, instance.error) : null),
          h("td", { class: "last-line" }, this.lastLines.get(plugin.name) ?? ""),
          h("td", {},
            h("button", { type: "button", onclick: () => this.plugins.showLogs(plugin.name) }, "Log"),
            h("button", { type: "button", onclick: () => this.plugins.stop(plugin.name).then(() => this.refresh()) }, "Stop"),
            h("button", { type: "button", onclick: () => this.restart(plugin.name) }, "Restart")));
      }))) : h("p", {}, "No native-python plugins in this workspace."));
  }

  /** The hosts table and the selector of the host new native-python plugins start on. */
  hostSection(hosts) {
    const select = h("select", { id: "engine-host", "aria-label": "Run native-python plugins on",
      onchange: () => { this.plugins.host = select.value || null; } },
      h("option", { value: "" }, "automatic (the engine, or a GPU worker for GPU plugins)"),
      hosts.map((host) => h("option", { value: host.name, disabled: !host.online }, host.online ? host.name : `${host.name} (offline)`)));
    select.value = this.plugins.host ?? "";
    const memory = (bytes) => bytes ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : "";
    return h("section", { class: "hosts" },
      h("label", {}, "Run native-python plugins on ", select),
      h("table", { class: "engine" },
        h("thead", {}, h("tr", {}, h("th", {}, "Host"), h("th", {}, "State"), h("th", {}, "CPUs"), h("th", {}, "Memory"), h("th", {}, "GPUs"), h("th", {}, "Python"))),
        h("tbody", {}, hosts.map((host) => h("tr", { dataset: { host: host.name } },
          h("td", {}, host.local ? `${host.name} (this engine)` : host.name),
          h("td", { class: "state" }, host.online ? "online" : "offline"),
          h("td", {}, String(host.info?.cpu_count ?? "")),
          h("td", {}, memory(host.info?.memory_bytes)),
          h("td", {}, (host.info?.gpus ?? []).map((gpu) => gpu.name).join(", ") || "none"),
          h("td", {}, host.info?.python ?? ""))))));
  }

  async restart(name) {
    try {
      await this.engine.start(name, null, null, true);
      this.feedback.showMessage(`Restarted ${name}`);
    } catch (error) {
      this.feedback.showMessage(errorText(error));
    }
    await this.refresh();
  }

  /** `plugin_status` event. */
  onStatus(status) {
    if (status?.phase === "environment") this.feedback.showStatus(`${status.name}: building its environment…`);
    if (status?.state === "running") this.feedback.showProgress(0);
    this.refresh().catch(() => {});
    this.plugins.refresh().catch(() => {});
  }

  /** `plugin_log` event: the newest line per plugin, and environment progress on the global bar. */
  onLog(line) {
    if (!line?.name) return;
    this.lastLines.set(line.name, String(line.text ?? "").slice(0, 160));
    const progress = /\((\d+)%\)/.exec(line.text ?? "");
    if (progress) this.feedback.showProgress(Number(progress[1]));
    const cell = this.window?.element.querySelector(`tr[data-name="${CSS.escape(line.name)}"] .last-line`);
    if (cell) cell.textContent = this.lastLines.get(line.name);
  }
}
