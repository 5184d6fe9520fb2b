import { h, replaceChildren } from "./dom.js";

/**
 * The app's feedback surfaces: status text, global progress bar, snackbar messages and modal dialogs
 * (alert / confirm / prompt / a form), all usable by keyboard.
 */
export class Feedback {
  constructor(document) {
    this.status = document.getElementById("status");
    this.progress = document.getElementById("progress");
    this.snackbar = document.getElementById("snackbar");
    this.dialog = document.getElementById("dialog");
    this.snackTimer = null;
  }

  /** Shows `text` in the status bar. */
  showStatus(text) {
    this.status.textContent = String(text ?? "");
  }

  /** Sets the global progress bar: 0–1 or 0–100; 0 or a value ≥ 100 % hides it. */
  showProgress(value) {
    let percent = Number(value) || 0;
    if (percent <= 1 && percent > 0) percent *= 100;
    const done = percent <= 0 || percent >= 100;
    this.progress.hidden = done;
    this.progress.setAttribute("aria-valuenow", String(Math.round(percent)));
    this.progress.firstElementChild.style.width = `${Math.min(100, percent)}%`;
  }

  /** A message that disappears after `duration` seconds (default 5). */
  showMessage(message, duration = 5) {
    this.snackbar.textContent = String(message ?? "");
    this.snackbar.hidden = false;
    clearTimeout(this.snackTimer);
    this.snackTimer = setTimeout(() => { this.snackbar.hidden = true; }, Math.max(1, Number(duration) || 5) * 1000);
  }

  /** A modal dialog; resolves with the value of the button pressed (Escape gives `cancelValue`). */
  ask(title, content, buttons, cancelValue = null) {
    const dialog = this.dialog;
    if (dialog.open) dialog.close("replaced");
    replaceChildren(document.getElementById("dialog-title"), title);
    replaceChildren(document.getElementById("dialog-content"), content);
    const menu = document.getElementById("dialog-buttons");
    replaceChildren(menu, buttons.map(([label, value, primary]) =>
      h("button", { value: String(value), class: primary ? "primary" : null }, label)));
    return new Promise((resolve) => {
      const values = new Map(buttons.map(([, value]) => [String(value), value]));
      const onClose = () => {
        dialog.removeEventListener("close", onClose);
        resolve(values.has(dialog.returnValue) ? values.get(dialog.returnValue) : cancelValue);
      };
      dialog.addEventListener("close", onClose);
      dialog.returnValue = "";
      const primary = buttons.find(([, , isPrimary]) => isPrimary);
      for (const input of dialog.querySelectorAll("#dialog-content input")) {
        input.addEventListener("keydown", (event) => {
          if (event.key !== "Enter" || !primary) return;
          event.preventDefault();
          dialog.close(String(primary[1]));
        });
      }
      dialog.showModal();
      (dialog.querySelector("input, textarea, select") ?? dialog.querySelector("button.primary"))?.focus();
    });
  }

  alert(message) {
    return this.ask("Message", h("p", {}, String(message ?? "")), [["OK", true, true]], true).then(() => undefined);
  }

  confirm(message) {
    return this.ask("Please confirm", h("p", {}, String(message ?? "")), [["Cancel", false], ["OK", true, true]], false);
  }

  async prompt(question, defaultValue = "") {
    const input = h("input", { type: "text", value: defaultValue ?? "", "aria-label": String(question ?? "") });
    const answer = await this.ask("Question", [h("p", {}, String(question ?? "")), input],
      [["Cancel", "cancel"], ["OK", "ok", true]], "cancel");
    return answer === "ok" ? input.value : null;
  }
}
