// The RPC peer of Hypha's protocol (PROTOCOL.md §2–§4), for browsers: interoperates with hypha-rpc
// peers (Python and JavaScript) through the engine's router.
//
// Wire form of a message: msgpack(main) [+ msgpack(extra)]. `main` routes (type, from, to, method,
// session, parent; the engine adds ws and user), `extra` carries args, with_kwargs, promise and t.
//
// Values (see `_encode`/`_decode`):
//   JavaScript                          wire
//   function                            {_rtype: "method", _rtarget, _rmethod, _rpromise: "*", …}
//   NDArray / TypedArray (not Uint8)    {_rtype: "ndarray", _rvalue: bytes, _rshape, _rdtype}
//   Uint8Array, ArrayBuffer             bin (Python bytes); decoded bin is a Uint8Array
//   DataView                            {_rtype: "memoryview"}; decoded as an ArrayBuffer
//   Error                               {_rtype: "error", _rvalue: message, _rtrace: stack}
//   Set / Map                           {_rtype: "set"} / {_rtype: "orderedmap", _rvalue: [[k, v], …]}
//   (async) generator / iterator        {_rtype: "generator", …}; decoded as an async generator
//   {_rintf: true, f() {…}}             a temporary local service only the receiving peer may call
// Keyword arguments: a last argument `{…, _rkwargs: true}` travels as kwargs (`with_kwargs: true`).
// Received kwargs (Python `f(1, b=2)`) are placed by parameter name; when the names cannot be
// matched (rest/destructured parameters, unknown names) the function gets them as a last argument
// `{…, _rkwargs: true}`. Functions of a service with `config.require_context` get the caller's
// context (`from`, `ws`, `user`, …) as their last argument.

import { Decoder, Ext, encode } from "./msgpack.js";
import { NDArray, decodeNDArray, decodeTypedArray, encodeNDArray } from "./ndarray.js";

export { NDArray };

/** Property of every remote function: its wire descriptor (`_rtarget`, `_rmethod`, …). */
export const RPC_DESCRIPTOR = Symbol.for("imjoy.rpc.descriptor");

/** An error raised by the remote peer: `message` is the remote message, `traceback` its trace. */
export class RemoteError extends Error {
  constructor(message, traceback = "") {
    super(message);
    this.name = "RemoteError";
    this.traceback = traceback;
  }
}

const CHUNK_CONCURRENCY = 30;
const PROMISE_CALLBACKS = new Set(["resolve", "reject", "heartbeat"]);
const EXTRA_KEYS = ["args", "with_kwargs", "promise", "t"];
const MIN_HEARTBEAT_SECONDS = 1;

function namedError(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

function isPlainObject(v) {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function setOwn(target, key, value) {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random id of `length` letters and digits (session and callback ids; never contains '.'). */
export function randomId(length = 22) {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const b of bytes) out += ID_ALPHABET[b % ID_ALPHABET.length];
  return out;
}

/** Parameter names of a simple function, or null when they cannot be read reliably. */
function parameterNames(fn) {
  let src;
  try {
    src = Function.prototype.toString.call(fn);
  } catch {
    return null;
  }
  src = src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/[^\n]*/g, "");
  const single = src.match(/^\s*(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/);
  if (single) return [single[1]];
  const list = src.match(/^[^(]*\(([^)]*)\)/);
  if (!list) return null;
  if (/[{}[\]()]|\.\.\./.test(list[1])) return null;
  const names = list[1].split(",").map((p) => p.split("=")[0].trim()).filter(Boolean);
  return names.every((n) => /^[A-Za-z_$][\w$]*$/.test(n)) ? names : null;
}

/**
 * Place keyword arguments by parameter name after the positional ones. When the names cannot be
 * matched (unknown names, destructured or rest parameters), the kwargs object is passed last,
 * marked `_rkwargs: true`.
 */
function applyKwargs(fn, args, kwargs, skipContext) {
  if (!isPlainObject(kwargs)) return [...args, kwargs];
  const names = parameterNames(fn)?.filter((n) => !(skipContext && n === "context"));
  const keys = Object.keys(kwargs);
  if (names && keys.every((k) => names.indexOf(k) >= args.length)) {
    const out = [...args];
    for (const k of keys) out[names.indexOf(k)] = kwargs[k];
    return Array.from(out);
  }
  return [...args, { ...kwargs, _rkwargs: true }];
}

function isIterator(v) {
  const tag = Object.prototype.toString.call(v);
  if (tag === "[object Generator]" || tag === "[object AsyncGenerator]") return true;
  return typeof v.next === "function" &&
    (typeof v[Symbol.asyncIterator] === "function" || typeof v[Symbol.iterator] === "function");
}

function concatBytes(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** A caller-side session: the target it talks to, callbacks sent with it, and maybe a pending call. */
class Session {
  constructor(id, target) {
    this.id = id;
    this.target = target;
    this.callbacks = new Map();
    this.call = null;
    this.lastActivity = Date.now();
  }
}

/** A call waiting for `<session>.resolve|reject`; its timer restarts on every heartbeat. */
class PendingCall {
  constructor(resolve, reject, timeoutSeconds, label, method, onTimeout) {
    this.resolve = resolve;
    this.reject = reject;
    this.method = method;
    this.timeoutMs = timeoutSeconds > 0 && Number.isFinite(timeoutSeconds) ? timeoutSeconds * 1000 : 0;
    this.label = label;
    this.onTimeout = onTimeout;
    this.timer = null;
    this.started = false;
  }

  startTimer() {
    this.started = true;
    this.arm();
  }

  resetTimer() {
    if (this.started) this.arm();
  }

  arm() {
    clearTimeout(this.timer);
    if (this.timeoutMs) this.timer = setTimeout(this.onTimeout, this.timeoutMs);
  }

  clear() {
    clearTimeout(this.timer);
    this.timer = null;
  }
}

/**
 * One RPC peer. The transport is any object with `send(Uint8Array)` (may return a Promise) and an
 * assignable `onmessage` property; the peer sets `transport.onmessage` to its `receive`.
 */
export class RPC {
  /**
   * @param {{send(bytes: Uint8Array): (void|Promise<void>), onmessage?: Function}} transport
   * @param {object} options
   * @param {string} options.clientId this peer's client id
   * @param {string} options.workspace the workspace the engine put this peer in
   * @param {string} [options.managerId] client id of the workspace manager (its address is "*" + "/" + managerId)
   * @param {string} [options.serverBaseUrl] `public_base_url` from connection_info (`_rserver`)
   * @param {number} [options.methodTimeout=30] seconds without answer or heartbeat before a call fails
   * @param {number} [options.rintfTimeout=10] the same for `_rintf` callbacks
   * @param {number} [options.chunkSize=262144] larger messages go through the receiver's message_cache
   * @param {number} [options.maxMessageSize=268435456] largest chunked message accepted
   * @param {number} [options.maxDepth=64] deepest nesting of values sent
   * @param {number} [options.sessionTTL=600] seconds an idle session holding callbacks is kept
   * @param {{debug: Function, info: Function, warn: Function, error: Function}} [options.logger=console]
   */
  constructor(transport, {
    clientId, workspace, managerId = null, serverBaseUrl = null, methodTimeout = 30, rintfTimeout = 10,
    chunkSize = 256 * 1024, maxMessageSize = 256 * 1024 * 1024, maxDepth = 64, sessionTTL = 600,
    logger = console,
  }) {
    if (!clientId || /[/:]/.test(clientId)) throw new TypeError(`Invalid client id "${clientId}"`);
    this.transport = transport;
    this.clientId = clientId;
    this.workspace = workspace;
    this.managerId = managerId;
    this.serverBaseUrl = serverBaseUrl;
    this.methodTimeout = methodTimeout;
    this.rintfTimeout = rintfTimeout;
    this.chunkSize = chunkSize;
    this.maxMessageSize = maxMessageSize;
    this.maxDepth = maxDepth;
    this.sessionTTL = sessionTTL;
    this.logger = logger;
    /** The workspace manager's service (set by `handleConnected`). */
    this.manager = null;
    /** Server events this peer subscribes to on every (re)connection. */
    this.subscriptions = new Set(["client_disconnected"]);

    this._services = new Map(); // id → {service, allowedCaller}
    this._annotations = new WeakMap(); // local service function → {methodId, path, serviceId}
    this._sessions = new Map(); // session id → Session
    this._cache = new Map(); // "<sender>|<key>" → {parts, size}
    this._handlers = new Map(); // event → Set<handler>
    this._heartbeats = new Set(); // interval ids of running callee heartbeats
    this._closed = null; // reason, once closed

    this.addService(this._builtinService(), { overwrite: true });
    this.on("client_disconnected", (msg) => this._onClientDisconnected(msg));
    this.on("peer_not_found", (msg) => this._onPeerNotFound(msg));
    this._gcTimer = setInterval(() => this._collectSessions(), 60_000);
    transport.onmessage = (bytes) => this.receive(bytes);
  }

  /** This peer's address, `<workspace>/<clientId>`. */
  get address() {
    return `${this.workspace}/${this.clientId}`;
  }

  /** True once `close` ran. */
  get closed() {
    return this._closed !== null;
  }

  // -------------------------------------------------------------------------------------------
  // Events
  // -------------------------------------------------------------------------------------------

  /** Call `handler(message)` for every message of `type === event` (and for local events). */
  on(event, handler) {
    if (!this._handlers.has(event)) this._handlers.set(event, new Set());
    this._handlers.get(event).add(handler);
  }

  /** Remove a handler added with `on`; without `handler`, remove all handlers of `event`. */
  off(event, handler) {
    if (handler === undefined) this._handlers.delete(event);
    else this._handlers.get(event)?.delete(handler);
  }

  _fire(event, data) {
    for (const handler of [...(this._handlers.get(event) ?? [])]) {
      try {
        const result = handler(data);
        if (result && typeof result.catch === "function") {
          result.catch((e) => this._log("error", `Handler of event "${event}" failed:`, e));
        }
      } catch (e) {
        this._log("error", `Handler of event "${event}" failed:`, e);
      }
    }
  }

  /**
   * Send an event message, e.g. `{type: "my-event", data: {...}}` (to "*" = subscribers of the
   * workspace by default).
   */
  async emit(message) {
    if (!isPlainObject(message) || typeof message.type !== "string") {
      throw new TypeError("emit needs an object with a string `type`");
    }
    if (this._closed) throw this._closedError("emit");
    const main = { ...this._encode(message, null), from: this.address, to: message.to ?? "*" };
    await this.transport.send(encode(main, { maxDepth: this.maxDepth + 8 }));
  }

  _log(level, ...args) {
    this.logger?.[level]?.("[imjoy-rpc]", ...args);
  }

  // -------------------------------------------------------------------------------------------
  // Services
  // -------------------------------------------------------------------------------------------

  /**
   * Add a service locally without telling the manager. Keys starting with "_" are dropped
   * (except `_dispose`); defaults: `name = id`, `type = "generic"`, `config = {}`.
   * @returns {object} the stored service
   */
  addService(api, { overwrite = false, allowedCaller = null } = {}) {
    if (!isPlainObject(api)) throw new TypeError("A service must be a plain object with an `id`");
    const id = api.id;
    if (typeof id !== "string" || !id || /[/:@.]/.test(id)) {
      throw new TypeError(`Invalid service id ${JSON.stringify(id)}: use a non-empty string without '/', ':', '@' or '.'`);
    }
    const service = {};
    for (const key of Object.keys(api)) {
      if (!key.startsWith("_") || key === "_dispose") setOwn(service, key, api[key]);
    }
    service.name ??= id;
    service.type ??= "generic";
    service.config = { ...(api.config ?? {}) };
    const visibility = service.config.visibility ?? "protected";
    if (!["protected", "public", "unlisted"].includes(visibility)) {
      throw new TypeError(`Service ${id}: visibility must be "protected", "public" or "unlisted", not "${visibility}"`);
    }
    const authorized = service.config.authorized_workspaces;
    if (authorized != null) {
      if (visibility !== "protected") throw new TypeError(`Service ${id}: authorized_workspaces needs visibility "protected"`);
      if (!Array.isArray(authorized) || !authorized.every((w) => typeof w === "string")) {
        throw new TypeError(`Service ${id}: authorized_workspaces must be a list of workspace ids`);
      }
    }
    if (!overwrite && this._services.has(id)) {
      throw new Error(`Service already exists: ${id}; pass {overwrite: true} to replace it`);
    }
    this._services.set(id, { service, allowedCaller });
    this._annotate(service, id, [], 0);
    return service;
  }

  _annotate(value, serviceId, path, depth) {
    if (depth > this.maxDepth) throw new Error(`Service ${serviceId} is nested deeper than ${this.maxDepth} levels`);
    for (const [key, member] of Object.entries(value)) {
      if (depth === 0 && key === "config") continue;
      const memberPath = [...path, key];
      if (typeof member === "function") {
        this._annotations.set(member, { serviceId, path: memberPath.join("."), methodId: `services.${serviceId}.${memberPath.join(".")}` });
      } else if (isPlainObject(member) || Array.isArray(member)) {
        this._annotate(member, serviceId, memberPath, depth + 1);
      }
    }
  }

  /** The service info sent to the manager's `register_service` (PROTOCOL.md §4.1). */
  serviceInfo(service) {
    const config = {};
    for (const [k, v] of Object.entries(service.config ?? {})) if (!k.startsWith("_")) config[k] = v;
    config.workspace = this.workspace;
    const members = {};
    for (const [k, v] of Object.entries(service)) {
      if (!["id", "config", "name", "description", "type", "docs", "app_id", "service_schema"].includes(k)) {
        setOwn(members, k, v);
      }
    }
    return {
      config,
      id: `${this.workspace}/${this.clientId}:${service.id}`,
      name: service.name ?? service.id,
      description: service.description ?? "",
      type: service.type ?? "generic",
      docs: service.docs ?? null,
      app_id: "*",
      service_schema: schemaOf(members, 0),
    };
  }

  /**
   * Add a service and register it with the workspace manager so others can `get_service` it.
   * @param {object} api `{id, name?, description?, config?: {visibility, require_context, …}, …members}`
   * @param {{overwrite?: boolean, notify?: boolean}} [config]
   * @returns {Promise<object>} the service info (its `id` is `<workspace>/<client>:<id>`)
   */
  async registerService(api, { overwrite = false, notify = true } = {}) {
    const previous = this._services.get(api?.id);
    const service = this.addService(api, { overwrite });
    const info = this.serviceInfo(service);
    if (notify) {
      try {
        await this._requireManager().register_service(info);
      } catch (error) {
        if (previous) this._services.set(api.id, previous);
        else this._services.delete(api.id);
        const wrapped = new Error(`Failed to register service ${api.id}: ${error.message}`);
        wrapped.cause = error;
        throw wrapped;
      }
    }
    return info;
  }

  /**
   * Remove a local service (id, full id or the service object) and unregister it from the manager.
   */
  async unregisterService(service, { notify = true } = {}) {
    let id = typeof service === "string" ? service : service?.id;
    if (typeof id !== "string") throw new TypeError("unregisterService needs a service id");
    if (id.includes(":")) id = id.slice(id.lastIndexOf(":") + 1);
    if (id.includes("@")) id = id.slice(0, id.indexOf("@"));
    if (!this._services.has(id)) throw new Error(`Service not found: ${id}`);
    if (notify && !id.startsWith("_rintf_")) await this._requireManager().unregister_service(id);
    this._services.delete(id);
  }

  /** Ids of the local services (built-in included). */
  listLocalServices() {
    return [...this._services.keys()];
  }

  _requireManager() {
    if (!this.manager) throw new Error("Not connected to a workspace manager yet");
    return this.manager;
  }

  /**
   * Fetch a service from a peer through its built-in `get_service` (explicit-promise form, as
   * hypha-rpc does). `uri` is `<workspace>/<client>:<service>`.
   */
  async getRemoteService(uri, { timeout = this.methodTimeout } = {}) {
    const colon = uri.lastIndexOf(":");
    const provider = colon < 0 ? this.address : uri.slice(0, colon);
    const serviceId = colon < 0 ? uri : uri.slice(colon + 1);
    const getService = this._remoteFunction({
      _rtype: "method", _rserver: this.serverBaseUrl, _rtarget: provider,
      _rmethod: "services.built-in.get_service", _rpromise: true,
    }, null, null, timeout);
    const service = await getService(serviceId);
    if (!isPlainObject(service)) throw new TypeError(`get_service(${uri}) returned ${typeof service}, not a service`);
    service.id = uri;
    return service;
  }

  /**
   * After every (re)connection: take the new connection_info, fetch the manager, (re)register all
   * services (built-in first) and subscribe to `subscriptions`. Throws if the manager cannot be
   * reached or a service cannot be registered.
   */
  async handleConnected(info) {
    if (info.workspace) this.workspace = info.workspace;
    if (info.public_base_url) this.serverBaseUrl = info.public_base_url;
    const previousManager = this.managerId;
    if (info.manager_id) this.managerId = info.manager_id;
    if (previousManager && previousManager !== this.managerId) {
      this._failSessionsTo(`*/${previousManager}`, "The engine restarted (new manager id)");
    }
    this._services.get("built-in").service.name = `Built-in services for ${this.address}`;
    this.manager = await this.getRemoteService(`*/${this.managerId}:default`);
    this._fire("manager_refreshed", { manager: this.manager });
    const failed = [];
    for (const [id, { service }] of this._services) {
      if (service.config._local_only) continue;
      try {
        await this.manager.register_service(this.serviceInfo(service));
      } catch (error) {
        failed.push(`${id}: ${error.message}`);
      }
    }
    if (typeof this.manager.subscribe === "function") {
      await this.manager.subscribe([...this.subscriptions]);
    }
    this._fire("services_registered", { failed });
    if (failed.length) throw new Error(`Could not register services with the engine: ${failed.join("; ")}`);
  }

  // The built-in service every client registers (PROTOCOL.md §4.1). Its functions receive the
  // caller's context as their last argument.
  _builtinService() {
    const last = (args) => args.pop();
    return {
      id: "built-in",
      type: "built-in",
      name: `Built-in services for ${this.address}`,
      description: "",
      config: { require_context: true, visibility: "public", api_version: 3 },
      ping: (...args) => {
        last(args);
        return "pong";
      },
      get_service: (...args) => {
        const context = last(args);
        return this._getLocalService(args[0], context);
      },
      message_cache: {
        create: (...args) => {
          const context = last(args);
          const [key, heartbeat = false, overwrite = false] = args;
          return this._cacheCreate(key, heartbeat, overwrite, context);
        },
        append: (...args) => {
          const context = last(args);
          const [key, data, heartbeat = false] = args;
          return this._cacheSet(key, null, data, heartbeat, context);
        },
        set: (...args) => {
          const context = last(args);
          const [key, index, data, heartbeat = false] = args;
          return this._cacheSet(key, index, data, heartbeat, context);
        },
        process: (...args) => {
          const context = last(args);
          const [key, heartbeat = false] = args;
          return this._cacheProcess(key, heartbeat, context);
        },
        remove: (...args) => {
          const context = last(args);
          this._cache.delete(this._cacheKey(args[0], context));
          return null;
        },
      },
    };
  }

  _getLocalService(serviceId, context) {
    const toClient = String(context?.to ?? "").split("/")[1];
    if (toClient !== this.clientId) throw new Error("Services can only be accessed locally");
    const entry = this._services.get(serviceId);
    if (!entry) throw new Error(`Service not found: ${serviceId}`);
    if (!this._mayUse(entry, context.from, context.ws)) {
      throw namedError("PermissionError",
        `Permission denied for getting protected service: ${serviceId}, workspace mismatch: ${this.workspace} != ${context.ws}`);
    }
    const config = {};
    for (const [k, v] of Object.entries(entry.service.config)) if (!k.startsWith("_")) config[k] = v;
    return { ...entry.service, config };
  }

  _mayUse(entry, from, callerWorkspace) {
    const config = entry.service.config;
    const visibility = config.visibility ?? "protected";
    return visibility === "public" || visibility === "unlisted" ||
      callerWorkspace === this.workspace ||
      (Array.isArray(config.authorized_workspaces) && config.authorized_workspaces.includes(callerWorkspace)) ||
      (this.managerId !== null && from === `*/${this.managerId}`) ||
      (entry.allowedCaller !== null && from === entry.allowedCaller);
  }

  // -------------------------------------------------------------------------------------------
  // Large messages: the receiving side of message_cache (PROTOCOL.md §2.6)
  // -------------------------------------------------------------------------------------------

  _cacheKey(key, context) {
    if (typeof key !== "string" || !key || key.length > 256) throw new TypeError("message_cache key must be a short string");
    return `${context?.from}|${key}`; // chunks from different senders never mix
  }

  _touchSession(key, heartbeat) {
    if (!heartbeat) return;
    const session = this._sessions.get(key);
    if (!session) throw new Error(`session does not exist anymore: ${key}`);
    session.lastActivity = Date.now();
    session.call?.resetTimer();
  }

  _cacheCreate(key, heartbeat, overwrite, context) {
    this._touchSession(key, heartbeat);
    const cacheKey = this._cacheKey(key, context);
    if (this._cache.has(cacheKey) && !overwrite) {
      throw new Error(`Message with the same key (${key}) already exists in the cache store`);
    }
    if (this._cache.size >= 1024) throw new Error("Too many large messages in transfer (1024)");
    this._cache.set(cacheKey, { parts: [], size: 0 });
    return null;
  }

  _cacheSet(key, index, data, heartbeat, context) {
    this._touchSession(key, heartbeat);
    const entry = this._cache.get(this._cacheKey(key, context));
    if (!entry) throw new Error(`Message with key ${key} does not exist`);
    if (!(data instanceof Uint8Array)) throw new TypeError("message_cache chunks must be bytes");
    const at = index === null ? entry.parts.length : index;
    if (!Number.isSafeInteger(at) || at < 0 || at > 1_000_000) throw new RangeError(`Invalid chunk index ${index}`);
    entry.size += data.length - (entry.parts[at]?.length ?? 0);
    if (entry.size > this.maxMessageSize) {
      this._cache.delete(this._cacheKey(key, context));
      throw new RangeError(`Message ${key} is larger than ${this.maxMessageSize} bytes`);
    }
    entry.parts[at] = data;
    return null;
  }

  _cacheProcess(key, heartbeat, context) {
    this._touchSession(key, heartbeat);
    const cacheKey = this._cacheKey(key, context);
    const entry = this._cache.get(cacheKey);
    if (!entry) throw new Error(`Message with key ${key} does not exist`);
    this._cache.delete(cacheKey);
    const whole = new Uint8Array(entry.size);
    let at = 0;
    for (let i = 0; i < entry.parts.length; i++) {
      const part = entry.parts[i];
      if (!part) throw new Error(`Message ${key} is missing chunk ${i}`);
      whole.set(part, at);
      at += part.length;
    }
    const decoder = new Decoder(whole);
    const main = decoder.read();
    const extra = decoder.done ? undefined : decoder.read();
    if (!isPlainObject(main)) throw new TypeError(`Message ${key} does not start with a map`);
    // The routing fields come from the engine-stamped `process` call, not from the payload.
    Object.assign(main, { from: context.from, to: context.to, ws: context.ws, user: context.user });
    this._dispatch(main, extra);
    return null;
  }

  // -------------------------------------------------------------------------------------------
  // Receiving
  // -------------------------------------------------------------------------------------------

  /** Handle one binary message from the transport. */
  receive(bytes) {
    if (this._closed) return;
    let main;
    let extra;
    try {
      const decoder = new Decoder(bytes);
      main = decoder.read();
      if (!decoder.done) extra = decoder.read();
    } catch (error) {
      this._log("warn", `Dropped an undecodable message: ${error.message}`);
      return;
    }
    this._dispatch(main, extra);
  }

  _dispatch(main, extra) {
    if (!isPlainObject(main) || typeof main.type !== "string") {
      this._log("warn", "Dropped a message without a type");
      return;
    }
    if (main.type !== "method") {
      // Events: payload keys from the extra segment, routing keys from main.
      this._fire(main.type, isPlainObject(extra) ? { ...extra, ...main } : main);
      return;
    }
    const context = { ...main, connection_type: "websocket" };
    const msg = { ...main };
    if (isPlainObject(extra)) for (const k of EXTRA_KEYS) if (k in extra) msg[k] = extra[k];
    this._handleMethod(msg, context).catch((e) => this._log("warn", `Failed to handle ${msg.method}:`, e));
  }

  async _handleMethod(msg, context) {
    const { from, method } = msg;
    if (typeof from !== "string" || typeof method !== "string" || !from.includes("/")) return;
    const remoteWs = from.slice(0, from.indexOf("/"));
    const to = String(msg.to ?? "");
    context.to = to.includes("/") ? to : `${remoteWs}/${to}`;
    const label = `${from}:${method}`;
    const reply = this._replyChannel(msg, remoteWs);
    const scope = { remoteParent: typeof msg.session === "string" ? msg.session : null, remoteWs };
    let heartbeat = null;
    try {
      const parts = method.split(".");
      let fn;
      let requireContext = false;
      if (parts[0] === "services") {
        const entry = this._services.get(parts[1]);
        fn = entry ? walk(entry.service, parts.slice(2)) : undefined;
        if (typeof fn !== "function") throw new Error(`Method expired or not found: ${label}`);
        if (!this._mayUse(entry, from, remoteWs)) {
          throw namedError("PermissionError",
            `Permission denied for invoking protected method ${label}, workspace mismatch: ${this.workspace} != ${remoteWs}`);
        }
        const rc = entry.service.config.require_context;
        requireContext = Array.isArray(rc) ? rc.includes(parts.slice(2).join(".")) : Boolean(rc);
      } else {
        const session = this._sessions.get(parts[0]);
        if (!session) {
          if (parts.length > 1 && PROMISE_CALLBACKS.has(parts[1]) && !reply) return; // late answer
          throw new Error(parts.length > 1 ? `Session not found: ${label}` : `Method not found: ${label} at ${this.clientId}`);
        }
        if (session.target !== from) {
          throw namedError("PermissionError", `Access denied for method call (${label}) from ${from} to target ${session.target}`);
        }
        session.lastActivity = Date.now();
        const name = parts.slice(1).join(".");
        if (PROMISE_CALLBACKS.has(name) && session.call) {
          this._settle(session, name, msg, scope);
          return;
        }
        fn = session.callbacks.get(name);
        if (typeof fn !== "function") {
          if (PROMISE_CALLBACKS.has(name) && !reply) return;
          throw new Error(`Method expired or not found: ${label}`);
        }
      }
      if (msg.parent && parts[0] !== "services" && !this._sessions.has(msg.parent)) {
        throw new Error(`Parent session was closed: ${msg.parent}`);
      }
      let args = Array.isArray(msg.args) ? this._decode(msg.args, scope) : [];
      if (msg.with_kwargs && args.length) args = applyKwargs(fn, args.slice(0, -1), args.at(-1), requireContext);
      if (requireContext) {
        while (args.length < fn.length - 1) args.push(undefined);
        args.push(context);
      }
      heartbeat = this._startHeartbeat(reply);
      const result = await fn(...args);
      if (reply) await this._sendReply(reply, result);
    } catch (error) {
      if (reply) this._sendError(reply, error);
      else this._log("warn", `Call ${label} failed:`, error);
    } finally {
      if (heartbeat !== null) {
        clearInterval(heartbeat);
        this._heartbeats.delete(heartbeat);
      }
    }
  }

  // The functions that answer a call: from the compact "*" form or the explicit promise map.
  _replyChannel(msg, remoteWs) {
    let promise = msg.promise;
    if (!promise) return null;
    if (promise === "*") {
      if (typeof msg.session !== "string") return null;
      const callback = (name) => ({ _rtype: "method", _rtarget: msg.from, _rmethod: `${msg.session}.${name}` });
      promise = { resolve: callback("resolve"), reject: callback("reject"), heartbeat: callback("heartbeat"), interval: msg.t };
    }
    if (!isPlainObject(promise)) return null;
    const parent = typeof msg.session === "string" ? msg.session : null;
    const make = (d) => (isPlainObject(d) && typeof d._rtarget === "string" && typeof d._rmethod === "string"
      ? this._remoteFunction({ ...d, _rpromise: false }, parent, remoteWs) : null);
    const reply = { resolve: make(promise.resolve), reject: make(promise.reject), heartbeat: make(promise.heartbeat) };
    const interval = Number(promise.interval);
    reply.interval = Number.isFinite(interval) && interval > 0 ? Math.max(interval, MIN_HEARTBEAT_SECONDS) : null;
    return reply.resolve || reply.reject ? reply : null;
  }

  _startHeartbeat(reply) {
    if (!reply?.heartbeat || !reply.interval) return null;
    const id = setInterval(() => {
      reply.heartbeat().catch((e) => this._log("debug", "Heartbeat not sent:", e.message));
    }, reply.interval * 1000);
    this._heartbeats.add(id);
    return id;
  }

  async _sendReply(reply, result) {
    if (!reply.resolve) return;
    try {
      await reply.resolve(result);
    } catch (error) {
      this._sendError(reply, error); // e.g. a result that cannot be encoded
    }
  }

  _sendError(reply, error) {
    if (!reply.reject) return;
    const wireError = error instanceof Error ? error : new Error(String(error));
    reply.reject(wireError).catch((e) => this._log("debug", "Error reply not sent:", e.message));
  }

  _settle(session, name, msg, scope) {
    const call = session.call;
    if (name === "heartbeat") {
      call.resetTimer();
      return;
    }
    this._endCall(session);
    let value;
    try {
      value = Array.isArray(msg.args) ? this._decode(msg.args, scope)[0] : undefined;
    } catch (error) {
      call.reject(error);
      return;
    }
    if (name === "resolve") call.resolve(value);
    else call.reject(value instanceof Error ? value : new RemoteError(String(value)));
  }

  // A pending call ends: stop its timer; keep the session only while it holds callbacks.
  _endCall(session) {
    session.call?.clear();
    session.call = null;
    if (session.callbacks.size === 0) this._sessions.delete(session.id);
  }

  _failSessionsTo(target, reason) {
    for (const session of [...this._sessions.values()]) {
      if (session.target !== target) continue;
      const call = session.call;
      this._sessions.delete(session.id);
      if (call) {
        call.clear();
        call.reject(namedError("ConnectionError", `${reason} (while calling ${call.method})`));
      }
    }
  }

  _onClientDisconnected(msg) {
    const data = isPlainObject(msg?.data) ? msg.data : msg ?? {};
    if (typeof data.id !== "string") return;
    const address = data.id.includes("/") || !data.workspace ? data.id : `${data.workspace}/${data.id}`;
    if (address === this.address) return;
    this._failSessionsTo(address, `Client disconnected: ${address}`);
    for (const [id, entry] of [...this._services]) {
      if (entry.allowedCaller === address) this._services.delete(id);
    }
    this._fire("remote_client_disconnected", { client_id: address });
  }

  _onPeerNotFound(msg) {
    const session = this._sessions.get(msg?.session);
    const error = String(msg?.error ?? `Peer ${msg?.peer_id} is not connected`);
    if (session?.call) {
      const call = session.call;
      this._sessions.delete(session.id);
      call.clear();
      call.reject(namedError("ConnectionError", error));
    }
  }

  _collectSessions() {
    const limit = Date.now() - this.sessionTTL * 1000;
    for (const session of [...this._sessions.values()]) {
      if (!session.call && session.lastActivity < limit) this._sessions.delete(session.id);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Calling
  // -------------------------------------------------------------------------------------------

  // A JavaScript function that calls the remote method `desc` (with `parent = remoteParent`).
  _remoteFunction(desc, remoteParent, remoteWs, timeout = null) {
    const d = { ...desc };
    if (typeof d._rtarget !== "string" || typeof d._rmethod !== "string") {
      throw new TypeError("Invalid remote method: _rtarget and _rmethod must be strings");
    }
    if (remoteWs && !d._rtarget.includes("/")) d._rtarget = `${remoteWs}/${d._rtarget}`;
    const fn = (...args) => this._callRemote(d, args, remoteParent, timeout);
    let name = typeof d._rname === "string" && d._rname ? d._rname : d._rmethod.split(".").at(-1);
    if (name.includes("#")) name = name.slice(name.lastIndexOf("#") + 1);
    Object.defineProperty(fn, "name", { value: name });
    Object.defineProperty(fn, RPC_DESCRIPTOR, { value: d });
    fn.__doc__ = d._rdoc ?? null;
    if (d._rschema) fn.__schema__ = d._rschema;
    return fn;
  }

  _callRemote(desc, rawArgs, remoteParent, timeoutOverride) {
    if (this._closed) return Promise.reject(this._closedError(`${desc._rtarget}:${desc._rmethod}`));
    const target = desc._rtarget;
    const method = desc._rmethod;
    const label = `${target}:${method}`;
    const promiseMode = desc._rpromise === "*" || desc._rpromise === true ? desc._rpromise : false;
    const timeout = timeoutOverride ?? (method.includes("_rintf_") ? this.rintfTimeout : this.methodTimeout);
    const args = [...rawArgs];
    let withKwargs = false;
    const last = args.at(-1);
    if (isPlainObject(last) && last._rkwargs === true) {
      const { _rkwargs, ...kwargs } = last;
      args[args.length - 1] = kwargs;
      withKwargs = true;
    }
    const session = new Session(randomId(), target);
    const main = { type: "method", from: this.address, to: target, method };
    if (remoteParent) main.parent = remoteParent;
    const extra = {};
    try {
      const encoded = this._encode(args, session);
      if (encoded.length) extra.args = encoded;
    } catch (error) {
      return Promise.reject(error);
    }
    if (withKwargs) extra.with_kwargs = true;
    if (!promiseMode) {
      if (session.callbacks.size) this._sessions.set(session.id, session);
      return this._send(main, extra, target, remoteParent).then(() => undefined);
    }
    main.session = session.id;
    extra.promise = promiseMode === true ? this._explicitPromise(session.id, timeout) : "*";
    if (promiseMode === "*") extra.t = timeout / 2;
    this._sessions.set(session.id, session);
    return new Promise((resolve, reject) => {
      session.call = new PendingCall(resolve, reject, timeout, label, method, () => {
        this._sessions.delete(session.id);
        reject(namedError("TimeoutError", `Method call timed out: ${label}`));
      });
      this._send(main, extra, target, remoteParent).then(
        () => session.call?.startTimer(),
        (error) => {
          if (!session.call) return;
          this._endCall(session);
          const wrapped = namedError("ConnectionError", `Failed to send the call ${label}: ${error.message}`);
          wrapped.cause = error;
          reject(wrapped);
        });
    });
  }

  _explicitPromise(sessionId, timeout) {
    const callback = (name) => ({ _rtype: "method", _rtarget: this.clientId, _rmethod: `${sessionId}.${name}`, _rpromise: false });
    const promise = { resolve: callback("resolve"), reject: callback("reject") };
    if (timeout) {
      promise.heartbeat = callback("heartbeat");
      promise.interval = timeout / 2;
    }
    return promise;
  }

  async _send(main, extra, target, remoteParent) {
    const options = { maxDepth: this.maxDepth + 8 };
    let bytes = encode(main, options);
    if (Object.keys(extra).length) bytes = concatBytes(bytes, encode(extra, options));
    if (bytes.length > this.chunkSize + 1024 && !main.method.startsWith("services.built-in.message_cache.")) {
      await this._sendChunks(bytes, target, remoteParent);
    } else {
      await this.transport.send(bytes);
    }
  }

  // Send a large message as chunks through the receiver's built-in message_cache.
  async _sendChunks(bytes, target, remoteParent) {
    const builtin = await this.getRemoteService(`${target}:built-in`);
    const cache = builtin.message_cache;
    if (typeof cache?.create !== "function") {
      throw new Error(`${target} cannot receive messages over ${this.chunkSize} bytes (no message_cache)`);
    }
    const key = remoteParent || randomId();
    const heartbeat = Boolean(remoteParent);
    const count = Math.ceil(bytes.length / this.chunkSize);
    const chunk = (i) => bytes.subarray(i * this.chunkSize, (i + 1) * this.chunkSize);
    await cache.create(key, heartbeat);
    try {
      if ((builtin.config?.api_version ?? 0) >= 3) {
        let next = 0;
        const worker = async () => {
          while (next < count) {
            const i = next++;
            await cache.set(key, i, chunk(i), heartbeat);
          }
        };
        await Promise.all(Array.from({ length: Math.min(CHUNK_CONCURRENCY, count) }, worker));
      } else {
        for (let i = 0; i < count; i++) await cache.append(key, chunk(i), heartbeat);
      }
      await cache.process(key, heartbeat);
    } catch (error) {
      cache.remove(key).catch(() => {});
      throw error;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Values
  // -------------------------------------------------------------------------------------------

  // To wire form. `session` (may be null) holds the callbacks and generators sent with a call.
  _encode(value, session, depth = 0) {
    if (value === null || value === undefined) return null;
    const type = typeof value;
    if (type === "string" || type === "number" || type === "boolean" || type === "bigint") return value;
    if (depth > this.maxDepth) {
      throw new RangeError(`Cannot send a value nested deeper than ${this.maxDepth} levels (is it cyclic?)`);
    }
    if (type === "function") return this._encodeFunction(value, session);
    if (type !== "object") throw new TypeError(`Cannot send a value of type ${type}`);
    if (value instanceof Uint8Array) return value;
    if (value instanceof ArrayBuffer) return new Uint8Array(value);
    if (value instanceof DataView) {
      return { _rtype: "memoryview", _rvalue: new Uint8Array(value.buffer, value.byteOffset, value.byteLength) };
    }
    if (value instanceof NDArray || ArrayBuffer.isView(value)) return encodeNDArray(value);
    if (value instanceof Error) {
      return { _rtype: "error", _rvalue: value.message || String(value), _rtrace: value.traceback || value.stack || "" };
    }
    if (value instanceof Date || value instanceof Ext) return value;
    if (value instanceof Promise) throw new TypeError("Cannot send a Promise; await it first");
    if (value instanceof Set) return { _rtype: "set", _rvalue: this._encode([...value], session, depth + 1) };
    if (value instanceof Map) return { _rtype: "orderedmap", _rvalue: this._encode([...value], session, depth + 1) };
    if (Array.isArray(value)) return value.map((v) => this._encode(v, session, depth + 1));
    if (isIterator(value)) return this._encodeGenerator(value, session);
    if (value._rintf === true && Object.entries(value).some(([k, v]) => !k.startsWith("_") && typeof v === "function")) {
      return this._encodeInterface(value, session, depth);
    }
    const out = {};
    for (const key of Object.keys(value)) setOwn(out, key, this._encode(value[key], session, depth + 1));
    return out;
  }

  _encodeFunction(fn, session) {
    const annotation = this._annotations.get(fn);
    if (annotation && this._services.has(annotation.serviceId)) {
      const d = {
        _rtype: "method", _rserver: this.serverBaseUrl, _rtarget: this.address, _rmethod: annotation.methodId,
        _rpromise: "*", _rname: fn.name || annotation.path, _rdoc: fn.__doc__ ?? null,
      };
      if (fn.__schema__) d._rschema = fn.__schema__;
      return d;
    }
    const remote = fn[RPC_DESCRIPTOR];
    if (remote && (remote._rserver == null || remote._rserver === this.serverBaseUrl)) return { ...remote };
    if (!session) throw new TypeError("A function can only be sent as an argument or a result of a call");
    const id = randomId(12);
    session.callbacks.set(id, fn);
    return {
      _rtype: "method", _rserver: this.serverBaseUrl, _rtarget: this.address, _rmethod: `${session.id}.${id}`,
      _rpromise: "*", _rname: fn.name || null, _rdoc: fn.__doc__ ?? null,
    };
  }

  _encodeGenerator(iterator, session) {
    if (!session) throw new TypeError("A generator can only be sent as an argument or a result of a call");
    const id = randomId(12);
    const closeId = `${id}:close`;
    const forget = () => {
      session.callbacks.delete(id);
      session.callbacks.delete(closeId);
    };
    session.callbacks.set(id, async () => {
      const step = await iterator.next();
      if (step.done) {
        forget();
        return { _rtype: "stop_iteration" };
      }
      return step.value;
    });
    session.callbacks.set(closeId, async () => {
      try {
        await iterator.return?.();
      } finally {
        forget();
      }
      return true;
    });
    return {
      _rtype: "generator", _rserver: this.serverBaseUrl, _rtarget: this.address, _rmethod: `${session.id}.${id}`,
      _rclose_method: `${session.id}.${closeId}`, _rpromise: "*", _rdoc: "Remote generator",
    };
  }

  // `{_rintf: true, …functions}`: a local service that only the receiving peer may call, freed by
  // its `_dispose` member or when that peer disconnects.
  _encodeInterface(obj, session, depth) {
    const serviceId = `_rintf_${randomId()}`;
    const allowedCaller = session?.target ?? null;
    const api = { id: serviceId, config: { visibility: "protected", _local_only: true } };
    for (const [k, v] of Object.entries(obj)) if (!k.startsWith("_") && typeof v === "function") api[k] = v;
    api._dispose = () => {
      this._services.delete(serviceId);
      return null;
    };
    this.addService(api, { overwrite: true, allowedCaller });
    obj._rintf_service_id = serviceId;
    const out = {};
    for (const key of Object.keys(obj)) {
      if (key !== "_rintf_service_id") setOwn(out, key, this._encode(obj[key], session, depth + 1));
    }
    out._dispose = this._encodeFunction(this._services.get(serviceId).service._dispose, session);
    out._rintf_service_id = serviceId;
    return out;
  }

  // From wire form. `scope.remoteParent` becomes the `parent` of calls to decoded functions;
  // relative targets are completed with `scope.remoteWs`.
  _decode(value, scope) {
    if (value === null || typeof value !== "object") return value;
    if (value instanceof Uint8Array || value instanceof Date || value instanceof Ext) return value;
    if (Array.isArray(value)) return value.map((v) => this._decode(v, scope));
    switch (value._rtype) {
      case "method":
        return this._remoteFunction(value, scope.remoteParent, scope.remoteWs);
      case "ndarray":
        return decodeNDArray(value);
      case "typedarray":
        return decodeTypedArray(value);
      case "memoryview": {
        const b = value._rvalue;
        if (!(b instanceof Uint8Array)) throw new TypeError("memoryview _rvalue must be bytes");
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
      }
      case "error":
        return new RemoteError(String(value._rvalue ?? ""), String(value._rtrace ?? ""));
      case "set":
        return new Set(this._decode(Array.isArray(value._rvalue) ? value._rvalue : [], scope));
      case "orderedmap": {
        const items = this._decode(Array.isArray(value._rvalue) ? value._rvalue : [], scope);
        return new Map(items.map((item) => (Array.isArray(item) ? item : [item, undefined])));
      }
      case "generator":
        return this._remoteGenerator(value, scope);
      default: {
        const out = {};
        for (const key of Object.keys(value)) setOwn(out, key, this._decode(value[key], scope));
        return out;
      }
    }
  }

  _remoteGenerator(desc, scope) {
    const next = this._remoteFunction({ ...desc, _rtype: "method" }, scope.remoteParent, scope.remoteWs);
    const close = typeof desc._rclose_method === "string"
      ? this._remoteFunction({ _rtype: "method", _rserver: desc._rserver, _rtarget: desc._rtarget, _rmethod: desc._rclose_method, _rpromise: "*" },
        scope.remoteParent, scope.remoteWs)
      : null;
    return (async function* remoteGenerator() {
      let finished = false;
      try {
        for (;;) {
          const item = await next();
          if (isPlainObject(item) && item._rtype === "stop_iteration") {
            finished = true;
            return;
          }
          yield item;
        }
      } finally {
        if (!finished && close) await close().catch(() => {});
      }
    })();
  }

  // -------------------------------------------------------------------------------------------
  // Shutdown
  // -------------------------------------------------------------------------------------------

  _closedError(label) {
    return namedError("ConnectionError", `Connection is closed (${this._closed}): ${label}`);
  }

  /**
   * Stop the peer: every pending call fails at once with a ConnectionError naming `reason`;
   * later calls fail immediately. Idempotent.
   */
  close(reason = "closed") {
    if (this._closed) return;
    this._closed = String(reason);
    clearInterval(this._gcTimer);
    for (const id of this._heartbeats) clearInterval(id);
    this._heartbeats.clear();
    const sessions = [...this._sessions.values()];
    this._sessions.clear();
    this._cache.clear();
    for (const session of sessions) {
      const call = session.call;
      if (!call) continue;
      call.clear();
      call.reject(this._closedError(call.label));
    }
    this._fire("closed", { reason: this._closed });
  }
}

function walk(root, path) {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== "object" || !Object.prototype.hasOwnProperty.call(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

// The service_schema of a service's members: functions, values and nested objects.
function schemaOf(value, depth) {
  const schema = {};
  for (const [key, member] of Object.entries(value)) {
    if (typeof member === "function") {
      schema[key] = { type: "function", function: member.__schema__ ?? { name: key, description: member.__doc__ ?? "" } };
    } else if (isPlainObject(member) && depth < 16) {
      schema[key] = schemaOf(member, depth + 1);
    } else if (typeof member === "string") schema[key] = { type: "string" };
    else if (typeof member === "number") schema[key] = { type: "number" };
    else if (typeof member === "boolean") schema[key] = { type: "boolean" };
    else if (member === null) schema[key] = { type: "null" };
    else schema[key] = {};
  }
  return schema;
}
