import { h, replaceChildren, errorText } from "./dom.js";

/**
 * The install dialog: the engine's repositories with searchable plugin cards, install from a URL or plugin URI,
 * and from pasted or dropped plugin source.
 */
export class InstallDialog {
  constructor({ engine, feedback, onInstalled, onNew }) {
    this.onNew = onNew;
    this.engine = engine;
    this.feedback = feedback;
    this.onInstalled = onInstalled;
  }

  async open() {
    const repositories = await this.engine.list_repositories();
    const cards = h("div", { class: "cards", role: "list" });
    const search = h("input", { type: "search", placeholder: "Search plugins", "aria-label": "Search plugins" });
    const picker = h("select", { "aria-label": "Repository" },
      repositories.map((repository) => h("option", { value: repository.url }, repository.name)));
    let entries = [];
    const show = () => {
      const needle = search.value.toLowerCase();
      replaceChildren(cards, entries.filter((entry) =>
        `${entry.name} ${entry.description ?? ""} ${(entry.tags ?? []).join(" ")}`.toLowerCase().includes(needle))
        .map((entry) => this.card(entry, picker.value)));
    };
    const load = async () => {
      replaceChildren(cards, h("p", {}, "Loading…"));
      try {
        entries = (await this.engine.get_repository(picker.value)).plugins ?? [];
        show();
      } catch (error) {
        replaceChildren(cards, h("p", { class: "error-message" }, errorText(error)));
      }
    };
    picker.addEventListener("change", load);
    search.addEventListener("input", show);
    const url = h("input", { type: "text", placeholder: "https://…/plugin.imjoy.html or owner/repo:Name",
      "aria-label": "Plugin URL" });
    const source = h("textarea", { rows: 6, placeholder: "…or paste (or drop) a plugin file here",
      "aria-label": "Plugin source" });
    source.addEventListener("drop", async (event) => {
      event.preventDefault();
      const file = event.dataTransfer?.files?.[0];
      if (file) source.value = await file.text();
    });
    const installFrom = (value) => async (event) => {
      event.preventDefault();
      if (value().trim()) await this.install(value().trim());
    };
    const content = [
      h("div", { class: "row" }, picker, search), cards,
      h("div", { class: "row" }, url, h("button", { type: "button", onclick: installFrom(() => url.value) }, "Install URL")),
      source,
      h("div", { class: "row" },
        h("button", { type: "button", onclick: installFrom(() => source.value) }, "Install source"),
        h("button", { type: "button", onclick: () => { this.feedback.dialog.close(); this.onNew?.(); } }, "New plugin…")),
    ];
    if (repositories.length) load();
    await this.feedback.ask("Install plugins", content, [["Close", true]], true);
  }

  /** A plugin card; a plugin with tags (configuration modes such as CPU/GPU) gets a selector, its first tag chosen. */
  card(entry, repository) {
    const tags = entry.tags ?? [];
    const picker = tags.length ? h("select", { "aria-label": `Tag for ${entry.name}` },
      tags.map((tag) => h("option", { value: tag }, tag))) : null;
    return h("article", { class: "card", role: "listitem", dataset: { name: entry.name } },
      h("h3", {}, entry.name, " ", h("small", {}, entry.version ?? "")),
      h("p", {}, entry.description ?? ""),
      h("p", { class: "tags" }, entry.type ?? "", tags.length ? " · tag " : "", picker),
      h("button", { type: "button", "aria-label": `Install ${entry.name}`,
        onclick: () => this.install(entry.name, { repository, tag: picker?.value ?? null }) }, "Install"));
  }

  /** Installs and reports in the snackbar; errors go to a dialog line. */
  async install(source, { repository = null, tag = null } = {}) {
    this.feedback.showStatus("Installing…");
    try {
      const summary = await this.engine.install(source, tag, repository);
      const list = Array.isArray(summary) ? summary : [summary];
      this.feedback.showMessage(`Installed ${list.map((s) => s.name).join(", ")}`);
      this.feedback.showStatus("");
      await this.onInstalled?.(list);
      return list;
    } catch (error) {
      this.feedback.showStatus("");
      this.feedback.showMessage(`Install failed: ${errorText(error)}`, 10);
      return null;
    }
  }
}
