import { h, replaceChildren, errorText } from "./dom.js";

/**
 * The engine panel (a window): the workspace's native-python plugins with their state, environment build
 * progress and logs, and stop / restart buttons. Updated live from `plugin_status` and `plugin_log` events.
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
    try {
      rows = (await this.engine.list()).filter((plugin) => plugin.type === "native-python");
    } catch (error) {
      replaceChildren(body, h("p", { class: "error-message" }, errorText(error)));
      return;
    }
    replaceChildren(body, rows.length ? h("table", { class: "engine" },
      h("thead", {}, h("tr", {}, h("th", {}, "Plugin"), h("th", {}, "State"), h("th", {}, "Last output"), h("th", {}, ""))),
      h("tbody", {}, rows.map((plugin) => {
        const instance = plugin.instances?.[0];
        const state = instance ? `${instance.state}${instance.phase ? ` (${instance.phase})` : ""}` : "stopped";
        return h("tr", { dataset: { name: plugin.name } },
          h("td", {}, plugin.name),
          h("td", { class: "state" }, state, instance?.error ? h("div", { class: "error-message" }, instance.error) : null),
          h("td", { class: "last-line" }, this.lastLines.get(plugin.name) ?? ""),
          h("td", {},
            h("button", { type: "button", onclick: () => this.plugins.showLogs(plugin.name) }, "Log"),
            h("button", { type: "button", onclick: () => this.plugins.stop(plugin.name).then(() => this.refresh()) }, "Stop"),
            h("button", { type: "button", onclick: () => this.restart(plugin.name) }, "Restart")));
      }))) : h("p", {}, "No native-python plugins in this workspace."));
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
