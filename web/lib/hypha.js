// connectToServer: the browser counterpart of hypha-rpc's `connect_to_server` (PROTOCOL.md §4.3).
//
//   import { connectToServer } from "/lib/hypha.js";
//   const server = await connectToServer({ server_url: "http://127.0.0.1:9527" });
//   await server.registerService({ id: "hello", config: { visibility: "public" }, hi: (name) => `hi ${name}` });
//   const svc = await server.getService("ws-…/other-client:calc");
//   await svc.add(1, 2);
//   await server.list_workspaces();          // any manager method, snake_case …
//   await server.listWorkspaces();           // … or camelCase
//   await server.call("list_tokens", { workspace: "default", _rkwargs: true });

import { ConnectionState, WebSocketConnection, toWebSocketUrl } from "./connection.js";
import { NDArray, RPC, RemoteError, randomId } from "./rpc.js";

export { ConnectionState, NDArray, RemoteError, toWebSocketUrl };

// Events raised locally (never subscribed on the server).
const LOCAL_EVENTS = new Set([
  "connection_state", "manager_refreshed", "services_registered", "remote_client_disconnected", "closed",
]);

const snakeCase = (name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * Connect to the engine and return a `server` object (like hypha-rpc's workspace manager proxy).
 *
 * @param {object} config
 * @param {string} config.server_url http(s):// URL of the engine
 * @param {string} [config.token] access token; without one the client is anonymous
 * @param {string} [config.workspace] workspace to enter (the engine picks one when omitted)
 * @param {string} [config.client_id] defaults to a random id
 * @param {number} [config.method_timeout=30] seconds a call may go without answer or heartbeat
 * @param {string} [config.reconnection_token]
 * @param {boolean} [config.reconnect=true] reconnect automatically after network drops
 * @param {number} [config.max_reconnect_attempts=Infinity]
 * @param {number} [config.ping_interval=20] seconds between keep-alive pings
 * @param {(detail: {state: string, reason: string|null}) => void} [config.on_state_change]
 * @param {object} [config.logger=console]
 * @returns {Promise<object>} the server object:
 *   `config` (connection_info merged into the manager's config: workspace, client_id,
 *   public_base_url, manager_id, user, …), `state`, `getService(id, config)`,
 *   `registerService(service, config)`, `unregisterService(id)`, `listServices(query)`,
 *   `generateToken(config)`, `echo(value)`, `on(event, handler)`, `off(event, handler)`,
 *   `emit(message)`, `call(method, ...args)`, `disconnect()`, `rpc`, `connection`, and every other
 *   manager method under its snake_case and camelCase names.
 */
export async function connectToServer(config = {}) {
  if (!config.server_url) throw new TypeError("connectToServer needs server_url");
  const clientId = config.client_id ?? `js-${randomId(12)}`;
  const logger = config.logger ?? console;
  const connection = new WebSocketConnection({
    serverUrl: config.server_url,
    clientId,
    workspace: config.workspace ?? null,
    token: config.token ?? null,
    reconnectionToken: config.reconnection_token ?? null,
    timeout: config.method_timeout ?? 30,
    pingInterval: config.ping_interval ?? 20,
    reconnect: config.reconnect ?? true,
    maxReconnectAttempts: config.max_reconnect_attempts ?? Infinity,
  });
  if (config.on_state_change) {
    connection.addEventListener("statechange", (event) => config.on_state_change(event.detail));
  }
  const info = await connection.open();
  const rpc = new RPC(connection, {
    clientId,
    workspace: info.workspace,
    managerId: info.manager_id,
    serverBaseUrl: info.public_base_url ?? null,
    methodTimeout: config.method_timeout ?? 30,
    logger,
  });
  connection.addEventListener("statechange", (event) => rpc._fire("connection_state", event.detail));
  connection.onconnected = async (newInfo) => {
    try {
      await rpc.handleConnected(newInfo);
    } catch (error) {
      logger.warn?.("[imjoy-rpc] After reconnecting:", error.message);
    }
  };
  connection.onclose = (reason) => rpc.close(reason);
  rpc.on("force-exit", (msg) => {
    if (msg.from === `*/${rpc.managerId}`) connection.close(`the engine asked to disconnect: ${msg.reason ?? ""}`);
  });
  try {
    await rpc.handleConnected(info);
  } catch (error) {
    await connection.close(`set-up failed: ${error.message}`);
    throw error;
  }
  return makeServer(rpc, connection);
}

function makeServer(rpc, connection) {
  const managerMethod = (name) => {
    const manager = rpc.manager;
    const fn = manager?.[name] ?? manager?.[snakeCase(name)];
    return typeof fn === "function" ? fn : undefined;
  };
  const call = (method, ...args) => {
    const fn = managerMethod(method);
    if (!fn) return Promise.reject(new Error(`The workspace manager has no method "${method}"`));
    return fn(...args);
  };

  const base = {
    /** The manager's config merged with the latest connection_info. */
    get config() {
      return { ...(rpc.manager?.config ?? {}), ...(connection.connectionInfo ?? {}) };
    },
    /** connecting | connected | reconnecting | disconnected */
    get state() {
      return connection.state;
    },
    rpc,
    connection,
    call,
    /** Get a service (`[<workspace>/][<client>:]<id>`); its functions are async. */
    getService: (id, serviceConfig = {}) => call("get_service", id, serviceConfig),
    /** Register a local service; returns its info (`id` is `<ws>/<client>:<id>`). */
    registerService: (service, serviceConfig = {}) => rpc.registerService(service, serviceConfig),
    /** Unregister one of this client's services. */
    unregisterService: (id) => rpc.unregisterService(id),
    listServices: (query) => (query === undefined ? call("list_services") : call("list_services", query)),
    generateToken: (tokenConfig = {}) => call("generate_token", tokenConfig),
    echo: (value) => call("echo", value),
    /**
     * Listen to an event. Server events (e.g. "service_added", custom names) are subscribed on the
     * engine first; the returned Promise settles once that is done.
     */
    on: async (event, handler) => {
      rpc.on(event, handler);
      if (LOCAL_EVENTS.has(event) || rpc.subscriptions.has(event)) return;
      rpc.subscriptions.add(event);
      try {
        await call("subscribe", [event]);
      } catch (error) {
        rpc.subscriptions.delete(event);
        throw error;
      }
    },
    off: (event, handler) => rpc.off(event, handler),
    /** Send an event `{type, data, to?}` (to "*" = subscribers in this workspace). */
    emit: (message) => rpc.emit(message),
    /** Close the connection; pending calls fail at once. */
    disconnect: async () => {
      await connection.close("disconnected by the client");
    },
  };

  return new Proxy(base, {
    get(target, prop, receiver) {
      if (prop in target) return Reflect.get(target, prop, receiver);
      if (typeof prop !== "string" || prop === "then") return undefined;
      return managerMethod(prop);
    },
    has(target, prop) {
      return prop in target || (typeof prop === "string" && managerMethod(prop) !== undefined);
    },
  });
}
