// Starts a browser plugin inside its sandboxed frame or its worker: connects to the engine as the plugin's own
// client, builds `api` (plugin-api.js), loads the plugin's JS requirements, then runs its script.

import { connectToServer } from "./hypha.js";
import { makePluginApi } from "./plugin-api.js";

const inWorker = typeof document === "undefined";

/** Loads a classic script: a `<script>` tag in a frame, fetch + global eval in a (module) worker. */
async function loadScript(url) {
  if (inWorker) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
    (0, eval)(await response.text());
    return;
  }
  await new Promise((resolve, reject) => {
    const tag = document.createElement("script");
    tag.src = url;
    tag.onload = resolve;
    tag.onerror = () => reject(new Error(`cannot load ${url}`));
    document.head.append(tag);
  });
}

/**
 * Runs a plugin.
 * @param {{origin: string, token: string, clientId: string, workspace: string, name: string, tag: ?string,
 *          scripts: string[], script: string}} settings
 */
export async function startPlugin(settings) {
  for (const url of settings.scripts ?? []) await loadScript(url);
  const server = await connectToServer({
    server_url: settings.origin, token: settings.token, workspace: settings.workspace, client_id: settings.clientId,
  });
  globalThis.api = makePluginApi(server, { name: settings.name, tag: settings.tag });
  globalThis.imjoy = { api: globalThis.api };
  if (inWorker) {
    (0, eval)(settings.script);
  } else {
    const tag = document.createElement("script");
    tag.textContent = settings.script;
    document.body.append(tag);
  }
}
