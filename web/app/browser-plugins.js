import { h } from "./dom.js";

/** Whether `url` answers (a HEAD request, at most 5 s). */
async function reachable(url) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 5000);
  try {
    return (await fetch(url, { method: "HEAD", cache: "no-store", signal: controller.signal })).ok;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** JSON that is safe inside an inline `<script>` (no `</script>`, no `<!--`). */
const scriptJSON = (value) => JSON.stringify(value).replace(/</g, "\\u003c");

/**
 * Runs browser plugins (`window`, `iframe`, `web-worker`) in iframes with `sandbox="allow-scripts"`: an opaque
 * origin, so they cannot reach the app's DOM, storage or token. Each connects to the engine as its own client with
 * a token limited to the workspace, and gets `api` from /lib/plugin-api.js.
 */
export class BrowserPlugins {
  constructor({ server, engine, windows, feedback }) {
    Object.assign(this, { server, engine, windows, feedback });
    this.running = new Map();
    this.hidden = document.body.appendChild(h("div", { class: "hidden-plugins", hidden: true }));
  }

  /** Forgets a running plugin and removes its frame (the next start loads its current source). */
  unload(name) {
    this.running.delete(name);
    for (const frame of document.querySelectorAll("iframe.plugin-frame")) {
      if (frame.title === name) {
        const window = frame.closest("section.window");
        if (window) this.windows.get(window.id)?.close();
        else frame.remove();
      }
    }
  }

  static handles(type) {
    return ["window", "iframe", "web-worker", "web-python"].includes(type);
  }

  /** Starts `name` (once per page) and returns its API after `setup()` ran. */
  async start(name) {
    if (this.running.has(name)) return this.running.get(name);
    const starting = this.launch(name);
    this.running.set(name, starting);
    starting.catch(() => this.running.delete(name));
    return starting;
  }

  async launch(name) {
    const parts = await this.engine.load_plugin(name);
    if (parts.type === "web-python") return this.launchWebPython(name, parts);
    return this.launchInFrame(name, parts);
  }

  /**
   * `web-python`: in Pyodide when it can be loaded from the configured URL; otherwise (offline) on the engine's
   * native Python, with a notice.
   */
  async launchWebPython(name, parts) {
    const { pyodide_url: configured } = await this.engine.app_config();
    const pyodideURL = new URL(configured, location.href).href;
    if (await reachable(`${pyodideURL}pyodide.mjs`)) {
      try {
        return await this.launchInFrame(name, parts, { pyodideURL, packages: parts.python_packages ?? [] });
      } catch (error) {
        this.feedback?.showMessage(`${name} could not start in Pyodide (${error.message}); using the engine's Python`, 10);
      }
    } else {
      this.feedback?.showMessage(
        `Pyodide could not be loaded from ${pyodideURL}: ${name} runs on the engine's Python instead`, 10);
    }
    return this.engine.start(name, null, null, false, true);
  }

  async launchInFrame(name, parts, python = null) {
    const token = await this.server.generateToken({ permission: "read_write", expires_in: 86400, label: `plugin ${name}` });
    const clientId = `plugin-${parts.id}-${Math.random().toString(36).slice(2, 8)}`;
    const frame = h("iframe", {
      sandbox: "allow-scripts", title: name, class: "plugin-frame",
      srcdoc: this.document(parts, { token, clientId, workspace: this.server.config.workspace, python }),
    });
    let handle = null;
    if (parts.type === "window") {
      handle = this.windows.create({ type: "imjoy/plugin", id: `plugin-${parts.id}`, name, w: 6 });
      handle.element.querySelector(".window-body").append(frame);
    } else {
      this.hidden.append(frame);
    }
    // A plugin that cannot start (e.g. a requirement that does not load) says so from its frame at once.
    let stopListening = () => {};
    const failed = new Promise((_, reject) => {
      const listen = (event) => {
        if (event.source !== frame.contentWindow || event.data?.type !== "imjoy-plugin-failed") return;
        reject(new Error(`${name} failed to start: ${event.data.error}`));
      };
      window.addEventListener("message", listen);
      stopListening = () => window.removeEventListener("message", listen);
    });
    try {
      const api = await Promise.race([this.waitForService(`${clientId}:default`, 30_000), failed]);
      if (typeof api.setup === "function") await api.setup();
      return api;
    } catch (error) {
      if (handle) handle.close();
      else frame.remove();
      throw error;
    } finally {
      stopListening();
    }
  }

  async waitForService(id, timeout) {
    const deadline = Date.now() + timeout;
    let lastError = null;
    while (Date.now() < deadline) {
      try {
        return await this.server.getService(id);
      } catch (error) {
        lastError = error;
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    }
    throw new Error(`The plugin did not export its API within ${timeout / 1000} s (${lastError?.message ?? "no answer"})`);
  }

  /** The frame's HTML: styles, the `<window>` markup, then the plugin script once `api` exists. */
  document(parts, { token, clientId, workspace, python }) {
    const origin = location.origin;
    const styles = (parts.styles ?? []).map((css) => `<style>${css.replace(/<\/style/gi, "<\\/style")}</style>`).join("\n");
    const links = (parts.stylesheets ?? []).map((url) => `<link rel="stylesheet" href="${encodeURI(url)}">`).join("\n");
    const settings = { origin, token, clientId, workspace, name: parts.name, tag: parts.tag ?? null,
      type: parts.type, scripts: parts.scripts ?? [], script: parts.script ?? "", ...(python ?? {}) };
    return `<!doctype html>
<html><head><meta charset="utf-8">${links}${styles}</head>
<body>${parts.window ?? ""}
<script type="module">
const settings = ${scriptJSON(settings)};
const host = settings.origin + "/lib/plugin-host.js";
if (settings.type === "web-worker") {
  // A real worker: no DOM; created from a blob of this (opaque) origin, importing the host module (CORS).
  const boot = "import(" + JSON.stringify(host) + ").then((m) => m.startPlugin(" + JSON.stringify(settings) + "))"
    + ".catch((e) => postMessage({ type: 'imjoy-plugin-failed', error: String(e && e.message || e) }));";
  // A classic worker (module workers from blob URLs fail in opaque origins) that imports the host module.
  const worker = new Worker(URL.createObjectURL(new Blob([boot], { type: "text/javascript" })));
  worker.onmessage = (event) => { if (event.data?.type === "imjoy-plugin-failed") parent.postMessage(event.data, "*"); };
  worker.onerror = (event) => parent.postMessage({ type: "imjoy-plugin-failed", error: event.message }, "*");
} else {
  try {
    const hostModule = await import(host);
    await (settings.type === "web-python" ? hostModule.startPythonPlugin(settings) : hostModule.startPlugin(settings));
  } catch (error) {
    parent.postMessage({ type: "imjoy-plugin-failed", error: String(error?.message ?? error) }, "*");
  }
}
</script></body></html>`;
  }
}
