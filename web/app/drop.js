import { h } from "./dom.js";

/** Whether a plugin's `inputs` (a JSON schema as in ImJoy) mention this file's MIME type or extension. */
export function acceptsFile(inputs, file) {
  if (!inputs) return false;
  const text = JSON.stringify(inputs).toLowerCase();
  const extension = file.name.includes(".") ? file.name.split(".").pop().toLowerCase() : "";
  return Boolean((file.type && text.includes(file.type.toLowerCase())) || (extension && text.includes(`.${extension}`)));
}

/**
 * Files dropped on the windows area: asks which plugin or saved workflow to run on them (plugins whose `inputs`
 * accept the file come first) and runs it with `ctx.data = {file: {name, type, size, bytes}}`.
 */
export class FileDrop {
  constructor(area, { engine, feedback, plugins, workflows }) {
    Object.assign(this, { engine, feedback, plugins, workflows });
    area.addEventListener("dragover", (event) => event.preventDefault());
    area.addEventListener("drop", (event) => {
      event.preventDefault();
      const file = event.dataTransfer?.files?.[0];
      if (file) this.handle(file);
    });
  }

  async handle(file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const data = { file: { name: file.name, type: file.type, size: file.size, bytes } };
    const plugins = [...this.plugins.plugins].sort((a, b) =>
      Number(acceptsFile(b.inputs, file)) - Number(acceptsFile(a.inputs, file)));
    const saved = await this.engine.list_workflows().catch(() => []);
    const choices = h("select", { "aria-label": "Run the file with" },
      h("optgroup", { label: "Plugins" }, plugins.map((plugin) =>
        h("option", { value: `plugin:${plugin.name}` }, plugin.name + (acceptsFile(plugin.inputs, file) ? " ✓" : "")))),
      saved.length ? h("optgroup", { label: "Workflows" }, saved.map((workflow) =>
        h("option", { value: `workflow:${workflow.name}` }, workflow.name))) : null);
    const go = await this.feedback.ask(`Run ${file.name}`, [h("p", {}, `${file.name} (${file.size} bytes) with:`), choices],
      [["Cancel", false], ["Run", true, true]], false);
    if (!go) return;
    const [kind, name] = [choices.value.slice(0, choices.value.indexOf(":")), choices.value.slice(choices.value.indexOf(":") + 1)];
    if (kind === "plugin") {
      await this.plugins.run(name, data);
    } else {
      await this.workflows.open();
      await this.workflows.load(name);
      await this.workflows.run(data);
    }
  }
}
