import { h, errorText } from "./dom.js";

/** The workspace menu: list and switch (a reload, as in ImJoy), create, export, delete (with confirmation). */
export class WorkspaceMenu {
  constructor({ server, engine, feedback, select, button, current }) {
    Object.assign(this, { server, engine, feedback, select, button, current });
    select.addEventListener("change", () => this.switchTo(select.value));
    button.addEventListener("click", () => this.actions());
  }

  async refresh() {
    let workspaces = [];
    try {
      workspaces = await this.server.list_workspaces();
    } catch {
      workspaces = [{ name: this.current }];
    }
    if (!workspaces.some((w) => w.name === this.current)) workspaces.push({ name: this.current });
    this.select.replaceChildren(...workspaces.map((w) =>
      h("option", { value: w.name, selected: w.name === this.current }, w.name)));
  }

  /** Reloads the app in `name` (keeping the token in this tab's session). */
  switchTo(name) {
    const url = new URL(location.href);
    url.searchParams.set("workspace", name);
    location.assign(url.toString());
  }

  async actions() {
    const choice = await this.feedback.ask(`Workspace ${this.current}`, h("p", {}, "What would you like to do?"),
      [["New workspace", "create"], ["Export", "export"], ["Delete", "delete"], ["Close", "close", true]], "close");
    try {
      if (choice === "create") {
        const name = await this.feedback.prompt("Name of the new workspace", "");
        if (!name) return;
        await this.server.create_workspace({ name });
        this.switchTo(name);
      } else if (choice === "export") {
        const document = await this.engine.export_workspace();
        const link = h("a", { href: URL.createObjectURL(new Blob([JSON.stringify(document, null, 2)],
          { type: "application/json" })), download: `${this.current}.imjoy-workspace.json` });
        link.click();
      } else if (choice === "delete") {
        const sure = await this.feedback.confirm(
          `Delete workspace ${this.current} with all its plugins, settings and workflows? This cannot be undone.`);
        if (!sure) return;
        await this.server.delete_workspace(this.current);
        this.switchTo("default");
      }
    } catch (error) {
      this.feedback.showMessage(errorText(error), 10);
    }
  }
}
