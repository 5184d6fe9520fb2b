import { h } from "./dom.js";

const TEMPLATE = `<docs lang="markdown">
# My Plugin
What it does.
</docs>

<config lang="json">
{
  "name": "My Plugin",
  "type": "window",
  "version": "0.1.0",
  "description": "A new plugin.",
  "tags": [],
  "ui": "",
  "requirements": [],
  "dependencies": []
}
</config>

<window lang="html">
  <p id="message">Hello from my plugin</p>
</window>

<script lang="javascript">
class ImJoyPlugin {
  async setup() {}
  async run(ctx) {
    await api.showMessage("My Plugin ran");
  }
}
api.export(new ImJoyPlugin());
</script>
`;

const KEYWORDS = /\b(class|def|async|await|return|import|from|const|let|var|function|if|else|for|while|new|try|except|catch|raise|throw|in|of|self|this|None|null|true|false|True|False)\b/;
const TOKEN = new RegExp([
  /(<\/?(?:config|script|window|style|docs|attachment)\b[^>]*>)/.source, // 1 plugin blocks
  /(#[^\n]*|\/\/[^\n]*)/.source, // 2 comments
  /("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)/.source, // 3 strings
  KEYWORDS.source, // 4 keywords
].join("|"), "g");

/** Syntax-highlighted spans for plugin source (block tags, comments, strings, keywords); text stays text. */
export function highlight(source) {
  const parts = [];
  let last = 0;
  for (const match of source.matchAll(TOKEN)) {
    if (match.index > last) parts.push(source.slice(last, match.index));
    const kind = match[1] ? "tag" : match[2] ? "comment" : match[3] ? "string" : "keyword";
    parts.push(h("span", { class: `tok-${kind}` }, match[0]));
    last = match.index + match[0].length;
  }
  parts.push(source.slice(last) + "\n");
  return parts;
}

/**
 * The plugin editor (`imjoy/plugin-editor` window): highlighted source, Save (= install), Run (install, reload a
 * running instance, run). Opened from a plugin's menu (Edit) or the install dialog (New plugin).
 */
export class PluginEditor {
  constructor({ engine, windows, feedback, plugins, browserPlugins }) {
    Object.assign(this, { engine, windows, feedback, plugins, browserPlugins });
  }

  async open(name = null) {
    const source = name ? await this.engine.get_source(name) : TEMPLATE;
    const id = `editor-${(name ?? "new").replace(/\W/g, "_")}`;
    const handle = this.windows.create({ id, type: "imjoy/plugin-editor", name: `Edit: ${name ?? "new plugin"}`, w: 8, h: 9 });
    const code = h("pre", { class: "editor-highlight", "aria-hidden": "true" });
    const text = h("textarea", { class: "editor-text", spellcheck: "false", wrap: "off", "aria-label": "Plugin source" });
    text.value = source;
    const refresh = () => code.replaceChildren(...highlight(text.value));
    text.addEventListener("input", refresh);
    text.addEventListener("scroll", () => { code.scrollTop = text.scrollTop; code.scrollLeft = text.scrollLeft; });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Tab" && !event.shiftKey && !event.altKey) {
        event.preventDefault();
        text.setRangeText("  ", text.selectionStart, text.selectionEnd, "end");
        refresh();
      } else if ((event.ctrlKey || event.metaKey) && event.key === "s") {
        event.preventDefault();
        this.save(text.value, tags);
      }
    });
    refresh();
    // The tag (configuration mode) the plugin is saved in: shown once the plugin is known to have tags.
    const tagPicker = h("select", { "aria-label": "Tag", hidden: true });
    const showTags = (tags = [], current = null) => {
      const chosen = tags.includes(tagPicker.value) ? tagPicker.value : tags.includes(current) ? current : tags[0];
      tagPicker.replaceChildren(...tags.map((tag) => h("option", { value: tag }, tag)));
      if (chosen) tagPicker.value = chosen;
      tagPicker.hidden = tags.length === 0;
    };
    const installed = name ? (await this.engine.list()).find((row) => row.name === name) : null;
    showTags(installed?.tags ?? [], installed?.tag ?? null);
    const tags = { chosen: () => (tagPicker.hidden ? null : tagPicker.value), show: showTags };
    handle.element.querySelector(".window-body").append(
      h("div", { class: "row editor-tools" },
        h("button", { type: "button", onclick: () => this.save(text.value, tags) }, "Save"),
        h("button", { type: "button", class: "primary", onclick: () => this.run(text.value, tags) }, "Run"),
        tagPicker),
      h("div", { class: "editor" }, code, text));
    text.focus();
    return handle;
  }

  /**
   * Installs the source (replacing the installed version) in the tag chosen in the editor's selector; returns its
   * summary, or null after showing why not.
   */
  async save(source, tags = null) {
    try {
      const summary = await this.engine.install(source, tags?.chosen() ?? null, null, true);
      tags?.show(summary.tags ?? [], summary.tag ?? null);
      await this.plugins.refresh();
      this.feedback.showMessage(`Saved ${summary.name} ${summary.version}`);
      return summary;
    } catch (error) {
      await this.plugins.showError("The plugin could not be saved", error);
      return null;
    }
  }

  /** Saves, reloads a running instance (hot reload), and runs it. */
  async run(source, tags = null) {
    const summary = await this.save(source, tags);
    if (!summary) return;
    if (this.browserPlugins.running.has(summary.name)) {
      this.browserPlugins.unload(summary.name);
    } else if (summary.type === "native-python") {
      try {
        await this.engine.start(summary.name, null, null, true);
      } catch (error) {
        await this.plugins.showError(`${summary.name} failed to start`, error);
        return;
      }
    }
    await this.plugins.run(summary.name);
  }
}
