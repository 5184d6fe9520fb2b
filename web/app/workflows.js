import { h, replaceChildren, errorText } from "./dom.js";

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
        h("li", { dataset: { plugin: step.plugin } }, step.plugin, " ",
          h("button", { type: "button", class: "icon", "aria-label": `Remove step ${index + 1}`,
            onclick: () => { this.steps.splice(index, 1); this.render(); } }, "✕")))),
      h("div", { class: "row" }, picker,
        h("button", { type: "button", onclick: () => { this.steps.push({ plugin: picker.value, config: {} }); this.render(); } }, "Add step")),
      h("div", { class: "row" },
        h("button", { type: "button", class: "primary", onclick: () => this.run() }, "Run workflow"),
        h("button", { type: "button", onclick: () => this.save() }, "Save")));
  }

  /** The workflow document (format of ImJoyCore's `Workflow`). */
  document() {
    return { format: "imjoy-workflow", version: 1, name: this.name, steps: this.steps };
  }

  async run() {
    let data = {};
    try {
      for (const [index, step] of this.steps.entries()) {
        this.feedback.showStatus(`Workflow step ${index + 1}/${this.steps.length}: ${step.plugin}`);
        this.feedback.showProgress(((index + 0.5) / this.steps.length) * 100);
        data = await this.plugins.execute(step.plugin, data ?? {}, step.config ?? {});
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
