import { h, replaceChildren, errorText } from "./dom.js";
import { renderForm } from "./op-form.js";

/**
 * Workflows ("Joy"): a list of steps (plugin + op config) run one after the other, each step's result becoming the
 * next step's `ctx.data`; saved in the workspace through the engine (`save_workflow`, `load_workflow`).
 */
export class WorkflowPanel {
  constructor({ engine, feedback, windows, plugins }) {
    Object.assign(this, { engine, feedback, windows, plugins });
    this.steps = [];
    this.name = "my workflow";
    this.window = null;
  }

  async open() {
    if (!this.window?.element.isConnected) {
      this.window = this.windows.create({ id: "workflow-panel", type: "imjoy/plugin", name: "Workflow", w: 6 });
    }
    await this.render();
  }

  async render() {
    const body = this.window.element.querySelector(".window-body");
    const saved = await this.engine.list_workflows().catch(() => []);
    const installed = this.plugins.plugins.map((plugin) => plugin.name);
    const nameInput = h("input", { type: "text", value: this.name, "aria-label": "Workflow name",
      oninput: (event) => { this.name = event.target.value; } });
    const picker = h("select", { "aria-label": "Plugin to add" }, installed.map((name) => h("option", { value: name }, name)));
    const loader = h("select", { "aria-label": "Saved workflows" },
      h("option", { value: "" }, "Load a saved workflow…"), saved.map((w) => h("option", { value: w.name }, w.name)));
    loader.addEventListener("change", () => loader.value && this.load(loader.value));
    replaceChildren(body,
      h("div", { class: "row" }, nameInput, loader),
      h("ol", { class: "steps", "aria-label": "Workflow steps" }, this.steps.map((step, index) =>
        h("li", { dataset: { plugin: step.plugin, op: step.op ?? "" } }, step.op ? `${step.plugin} / ${step.op}` : step.plugin, " ",
          Object.keys(step.config ?? {}).length ? h("small", { class: "step-config" }, JSON.stringify(step.config), " ") : null,
          h("button", { type: "button", class: "icon", "aria-label": `Edit step ${index + 1}`,
            onclick: () => this.editStep(index) }, "✎"),
          h("button", { type: "button", class: "icon", "aria-label": `Remove step ${index + 1}`,
            onclick: () => { this.steps.splice(index, 1); this.render(); } }, "✕")))),
      h("div", { class: "row" }, picker,
        h("button", { type: "button", onclick: () => { this.steps.push({ plugin: picker.value, config: {} }); this.render(); } }, "Add step")),
      h("div", { class: "row" },
        h("button", { type: "button", class: "primary", onclick: () => this.run({}) }, "Run workflow"),
        h("button", { type: "button", onclick: () => this.save() }, "Save"),
        h("button", { type: "button", onclick: () => this.share() }, "Share")));
  }

  /** The workflow document (format of ImJoyCore's `Workflow`). */
  document() {
    return { format: "imjoy-workflow", version: 1, name: this.name, steps: this.steps };
  }

  /** Runs the steps; `initial` is the first step's `ctx.data` (e.g. a dropped file). */
  async run(initial = {}) {
    let data = initial;
    try {
      for (const [index, step] of this.steps.entries()) {
        this.feedback.showStatus(`Workflow step ${index + 1}/${this.steps.length}: ${step.op ? `${step.plugin} / ${step.op}` : step.plugin}`);
        this.feedback.showProgress(((index + 0.5) / this.steps.length) * 100);
        data = await this.plugins.execute(step.plugin, data ?? {}, step.config ?? {}, step.op ?? null);
      }
      this.feedback.showProgress(0);
      this.feedback.showStatus(`Workflow ${this.name}: done`);
      this.windows.create({ type: "imjoy/generic", id: "workflow-result", name: `${this.name}: result`, data });
      return data;
    } catch (error) {
      this.feedback.showProgress(0);
      await this.plugins.showError(`Workflow ${this.name} failed`, error);
      return null;
    }
  }

  /** Edits a step's parameters with its plugin's `ui` form. */
  async editStep(index) {
    const step = this.steps[index];
    const plugin = this.plugins.plugins.find((p) => p.name === step.plugin);
    const segments = (plugin?.form ?? []).map((segment) =>
      segment.id && step.config?.[segment.id] !== undefined ? { ...segment, default: step.config[segment.id] } : segment);
    const form = renderForm(segments);
    if (!form.hasFields) {
      this.feedback.showMessage(`${step.plugin} has no parameters`);
      return;
    }
    const ok = await this.feedback.ask(`Step ${index + 1}: ${step.plugin}`, form.elements,
      [["Cancel", false], ["OK", true, true]], false);
    if (ok) {
      step.config = form.values();
      await this.render();
    }
  }

  /** A link that opens this workflow (`?workflow=`), shown to copy, and the workflow as a file to download. */
  share() {
    const url = new URL(location.href);
    url.search = "";
    url.searchParams.set("workflow", JSON.stringify(this.document()));
    const file = h("a", { href: URL.createObjectURL(new Blob([JSON.stringify(this.document(), null, 2)],
      { type: "application/json" })), download: `${this.name}.imjoy-workflow.json` }, "Download as a file");
    return this.feedback.ask(`Share ${this.name}`, [h("p", {}, "Open this link in the same engine to load the workflow:"),
      h("input", { type: "text", readonly: true, value: url.toString(), "aria-label": "Workflow link" }), h("p", {}, file)],
    [["Close", true, true]], true);
  }

  /** Opens the panel with a workflow document (from a shared link or file). */
  async show(document) {
    this.name = document?.name ?? this.name;
    this.steps = (document?.steps ?? []).map((step) =>
      (step.op && step.op !== step.plugin ? { plugin: step.plugin, op: step.op, config: step.config ?? {} }
        : { plugin: step.plugin, config: step.config ?? {} }));
    await this.open();
  }

  async save() {
    try {
      await this.engine.save_workflow(this.document());
      this.feedback.showMessage(`Saved workflow ${this.name}`);
      await this.render();
    } catch (error) {
      this.feedback.showMessage(errorText(error), 10);
    }
  }

  async load(name) {
    const workflow = await this.engine.load_workflow(name);
    this.name = workflow.name ?? name;
    this.steps = (workflow.steps ?? []).map((step) => ({ plugin: step.plugin, config: step.config ?? {} }));
    await this.render();
  }
}
