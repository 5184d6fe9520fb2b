import { h, replaceChildren, errorText } from "./dom.js";
import { BrowserPlugins } from "./browser-plugins.js";
import { renderForm } from "./op-form.js";

/**
 * The plugin menu: the workspace's installed plugins with a run button and a per-plugin menu
 * (docs, logs, stop, remove, share), then the ops other peers offer: ops plugins registered with `api.register`
 * and connected programs (e.g. a Swift program using ImJoyClient), runnable from the menu and in workflows.
 */
export class PluginPanel {
  constructor(list, { engine, feedback, windows, browserPlugins, server }) {
    this.server = server;
    this.ops = [];
    this.list = list;
    this.browserPlugins = browserPlugins;
    this.engine = engine;
    this.feedback = feedback;
    this.windows = windows;
    this.plugins = [];
  }

  /** Reloads the list from the engine. */
  async refresh() {
    this.plugins = await this.engine.list();
    const names = new Set(this.plugins.map((plugin) => plugin.name));
    const services = this.server ? await this.server.listServices({ type: "operator" }).catch(() => []) : [];
    this.ops = services.filter((op) => op.name && !names.has(op.name));
    replaceChildren(this.list, this.plugins.length || this.ops.length
      ? [...this.plugins.map((plugin) => this.item(plugin)), ...this.ops.map((op) => this.opItem(op))]
      : h("li", { class: "empty" }, "No plugins yet: install some with + Plugins."));
  }

  /** An op offered by a plugin (`api.register`) or a connected program: run it from its form. */
  opItem(op) {
    return h("li", { class: "plugin op", dataset: { name: op.name, op: op.id } },
      h("button", { class: "run", title: op.description ?? `offered by ${op.id.split(":")[0]}`,
        onclick: () => this.runOpWithForm(op) },
        h("span", { class: "plugin-name" }, op.name),
        h("span", { class: "badge", "aria-label": "an op" }, "op")));
  }

  async runOpWithForm(op) {
    let form = null;
    try {
      const service = await this.server.getService(op.id);
      if (typeof service.ui === "string" && service.ui) form = renderForm(await this.engine.parse_ui(service.ui));
    } catch (error) {
      return this.showError(`${op.name} is not reachable`, error);
    }
    if (!form?.hasFields) return this.run(op.name);
    const go = await this.feedback.ask(op.name, form.elements, [["Cancel", false], ["Run", true, true]], false);
    if (go) return this.run(op.name, {}, form.values());
  }

  item(plugin) {
    const name = plugin.name;
    const state = plugin.enabled === false ? "disabled" : plugin.state ?? "stopped";
    return h("li", { class: "plugin", dataset: { name, state } },
      h("button", { class: "run", title: plugin.description ?? "", onclick: () => this.runWithForm(plugin) },
        h("span", { class: "plugin-name" }, name),
        plugin.tag ? h("span", { class: "plugin-tag", "aria-label": `tag ${plugin.tag}` }, plugin.tag) : null,
        h("span", { class: "badge", "aria-label": `state ${state}` }, state === "stopped" ? "" : state)),
      h("details", { class: "plugin-menu", onclick: (event) => {
        if (event.target.closest(".menu button")) event.currentTarget.open = false;
      } },
        h("summary", { "aria-label": `Menu of ${name}` }, "⋯"),
        h("div", { class: "menu" },
          h("button", { onclick: () => this.showDocs(plugin) }, "Docs"),
          h("button", { onclick: () => this.editor?.open(name) }, "Edit"),
          h("button", { onclick: () => this.showLogs(name) }, "Log"),
          h("button", { onclick: () => this.stop(name) }, "Stop"),
          h("button", { onclick: () => this.share(plugin) }, "Share"),
          h("button", { onclick: () => this.remove(name) }, "Remove"))));
  }

  /** Asks for the op's `ui` form values (when it has fields), then runs it. */
  async runWithForm(plugin) {
    const form = renderForm(plugin.form);
    if (!form.hasFields) return this.run(plugin.name);
    const go = await this.feedback.ask(plugin.name, form.elements, [["Cancel", false], ["Run", true, true]], false);
    if (go) return this.run(plugin.name, {}, form.values());
  }

  /** Starts a plugin (if needed) and returns what its `run({config, data})` returns (errors are thrown). */
  async execute(name, data = {}, config = {}, opName = null) {
    if (opName && opName !== name) return this.executeOp(name, opName, data, config);
    const op = this.plugins.some((plugin) => plugin.name === name) ? null : this.ops.find((entry) => entry.name === name);
    if (op) {
      const service = await this.server.getService(op.id);
      return await service.run({ config, data });
    }
    const type = this.plugins.find((plugin) => plugin.name === name)?.type;
    // Native-python plugins start on the host picked in the engine panel (null: the engine chooses).
    const api = BrowserPlugins.handles(type)
      ? await this.browserPlugins.start(name)
      : await this.engine.start(name, null, null, false, false, this.host ?? null);
    return typeof api?.run === "function" ? await api.run({ config, data }) : undefined;
  }

  /** Runs the op `opName` a plugin registered with `api.register` (starting the plugin first if needed). */
  async executeOp(name, opName, data, config) {
    const type = this.plugins.find((plugin) => plugin.name === name)?.type;
    if (BrowserPlugins.handles(type)) await this.browserPlugins.start(name);
    else await this.engine.start(name, null, null, false, false, this.host ?? null);
    const serviceId = (text) => text.replace(/[ .:/]/g, "_");
    const suffix = `:${serviceId(name)}__${serviceId(opName)}`;
    const ops = await this.server.listServices({ type: "operator" });
    const op = ops.find((entry) => entry.id.endsWith(suffix));
    if (!op) {
      const mine = ops.filter((entry) => entry.id.includes(`:${serviceId(name)}__`)).map((entry) => entry.name);
      throw new Error(`${name} has no op named ${opName}${mine.length ? ` (its ops: ${mine.join(", ")})` : ""}`);
    }
    return (await this.server.getService(op.id)).run({ config, data });
  }

  /** Starts a plugin (if needed) and calls its `run`, showing what it returns in a window. */
  async run(name, data = {}, config = {}) {
    this.feedback.showStatus(`Running ${name}…`);
    try {
      const result = await this.execute(name, data, config);
      if (result !== undefined && result !== null) {
        this.windows.create({ type: "imjoy/generic", id: `result-${name.replace(/\W/g, "_")}`, name: `${name}: result`, data: result });
      }
      this.feedback.showStatus(`${name}: done`);
      return result;
    } catch (error) {
      this.feedback.showStatus(`${name} failed`);
      await this.showError(`${name} failed`, error);
    } finally {
      this.refresh().catch(() => {});
    }
  }

  /** An error with its traceback, in a dialog. */
  async showError(title, error) {
    const text = errorText(error);
    const [message, ...rest] = text.split("\n");
    const traceback = error?.traceback || rest.join("\n");
    await this.feedback.ask(title, [h("p", { class: "error-message" }, message),
      traceback ? h("pre", { class: "traceback" }, traceback) : null], [["Close", true, true]], true);
  }

  async showDocs(plugin) {
    const source = await this.engine.get_source(plugin.name);
    const docs = /<docs[^>]*>([\s\S]*?)<\/docs>/.exec(source)?.[1]?.trim();
    this.windows.create({ type: "imjoy/markdown", name: `${plugin.name}: docs`,
      data: docs || `# ${plugin.name}\n${plugin.description ?? "No documentation."}` });
  }

  async showLogs(name) {
    try {
      const entries = await this.engine.logs(name);
      this.windows.create({ type: "imjoy/log", id: `log-${name}`, name: `${name}: log`,
        data: entries.map((entry) => `[${entry.source}] ${entry.text}`) });
    } catch (error) {
      this.feedback.showMessage(errorText(error));
    }
  }

  async stop(name) {
    try {
      await this.engine.stop(name);
      this.feedback.showMessage(`Stopped ${name}`);
    } catch (error) {
      this.feedback.showMessage(errorText(error));
    }
    await this.refresh();
  }

  share(plugin) {
    const url = new URL(location.href);
    url.search = "";
    url.searchParams.set("plugin", plugin.origin ?? plugin.name);
    this.feedback.ask(`Share ${plugin.name}`, [h("p", {}, "Anyone with this engine can install the plugin from:"),
      h("input", { type: "text", readonly: true, value: url.toString(), "aria-label": "Share URL" })], [["Close", true, true]]);
  }

  async remove(name) {
    if (!(await this.feedback.confirm(`Remove ${name} and its settings from this workspace?`))) return;
    await this.engine.uninstall(name);
    this.feedback.showMessage(`Removed ${name}`);
    await this.refresh();
  }
}
