// The WebSocket connection to the engine (PROTOCOL.md §1): handshake, keep-alive, reconnection.
//
// States, announced by a "statechange" event (`event.detail = {state, reason}`):
//   connecting → connected ⇄ reconnecting → … → disconnected
// `disconnected` is final: after `close()`, a refused handshake, or when reconnecting gave up.

/** Connection states. */
export const ConnectionState = Object.freeze({
  CONNECTING: "connecting",
  CONNECTED: "connected",
  RECONNECTING: "reconnecting",
  DISCONNECTED: "disconnected",
});

/** The engine refused the handshake (`{"type": "error"}` frame); reconnecting would not help. */
export class ConnectionRefusedError extends Error {
  constructor(message) {
    super(message);
    this.name = "ConnectionAbortedError";
  }
}

/**
 * The WebSocket URL for a server URL: `http(s)://host[/prefix]` → `ws(s)://host[/prefix]/ws`;
 * `ws(s)://…` URLs are used as they are.
 */
export function toWebSocketUrl(serverUrl) {
  const url = String(serverUrl ?? "").trim().replace(/\/+$/, "");
  if (/^wss?:\/\//i.test(url)) return url;
  const match = url.match(/^(https?):\/\/(.+)$/i);
  if (!match) throw new TypeError(`server_url must start with http://, https://, ws:// or wss://, not "${serverUrl}"`);
  return `${match[1].toLowerCase() === "https" ? "wss" : "ws"}://${match[2]}/ws`;
}

const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
});

/**
 * One logical connection to the engine, kept alive across network drops.
 *
 * Set `onmessage(bytes)` to receive binary messages, `onconnected(info)` to run after every
 * reconnection (awaited before the connection counts as restored), and `onclose(reason)` for the
 * final close. `send(bytes)` waits for a reconnection in progress (up to `timeout` seconds).
 */
export class WebSocketConnection extends EventTarget {
  /**
   * @param {object} options
   * @param {string} options.serverUrl http(s):// URL of the engine (or its ws(s)://…/ws URL)
   * @param {string} options.clientId
   * @param {string} [options.workspace] workspace to enter (null: the engine chooses)
   * @param {string} [options.token] access token (null: anonymous)
   * @param {string} [options.reconnectionToken] from an earlier connection
   * @param {number} [options.timeout=30] seconds to wait for the handshake, and for a reconnection in `send`
   * @param {number} [options.pingInterval=20] seconds between `{"type":"ping"}` keep-alives (0: off)
   * @param {number} [options.tokenRefreshInterval=7200] seconds between reconnection-token refreshes
   * @param {boolean} [options.reconnect=true] reconnect after a close we did not ask for
   * @param {number} [options.maxReconnectDelay=60] cap of the exponential back-off, seconds
   * @param {number} [options.maxReconnectAttempts=Infinity] attempts before giving up
   * @param {typeof WebSocket} [options.WebSocket] constructor to use (tests)
   */
  constructor({
    serverUrl, clientId, workspace = null, token = null, reconnectionToken = null, timeout = 30,
    pingInterval = 20, tokenRefreshInterval = 7200, reconnect = true, maxReconnectDelay = 60,
    maxReconnectAttempts = Infinity, WebSocket: WebSocketImpl = globalThis.WebSocket,
  }) {
    super();
    this.url = toWebSocketUrl(serverUrl);
    this.clientId = clientId;
    this.workspace = workspace;
    this.token = token;
    this.reconnectionToken = reconnectionToken;
    this.timeout = timeout;
    this.pingInterval = pingInterval;
    this.tokenRefreshInterval = tokenRefreshInterval;
    this.reconnect = reconnect;
    this.maxReconnectDelay = maxReconnectDelay;
    this.maxReconnectAttempts = maxReconnectAttempts;
    this.WebSocket = WebSocketImpl;
    /** The latest connection_info from the engine. */
    this.connectionInfo = null;
    this.state = null;
    this.reason = null;
    this.onmessage = null;
    this.onconnected = null;
    this.onclose = null;
    this._ws = null;
    this._timers = [];
    this._closing = false;
    this._abort = new AbortController();
    this._waiters = new Set();
    this._lastConnectedAt = 0;
    this._flaps = 0;
  }

  /** Id of the workspace manager (from connection_info). */
  get managerId() {
    return this.connectionInfo?.manager_id ?? null;
  }

  _setState(state, reason = null) {
    this.state = state;
    this.reason = reason;
    this.dispatchEvent(new CustomEvent("statechange", { detail: { state, reason } }));
  }

  // Wake the senders waiting for a live socket (or for the final close).
  _wakeSenders() {
    for (const waiter of this._waiters) waiter();
    this._waiters.clear();
  }

  /**
   * Connect and complete the handshake.
   * @returns {Promise<object>} the engine's connection_info
   * @throws {ConnectionRefusedError} with the engine's message when it refuses the connection
   */
  async open() {
    if (this.state !== null) throw new Error("open() can only be called once");
    this._setState(ConnectionState.CONNECTING);
    try {
      const info = await this._handshake();
      this._setState(ConnectionState.CONNECTED);
      return info;
    } catch (error) {
      this._closing = true;
      this._setState(ConnectionState.DISCONNECTED, error.message);
      throw error;
    }
  }

  // Open a socket, send the auth frame, wait for connection_info; on success the socket is live.
  _handshake() {
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new this.WebSocket(this.url);
      } catch (error) {
        reject(error);
        return;
      }
      ws.binaryType = "arraybuffer";
      let done = false;
      const finish = (error, info) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (error) {
          ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
          try { ws.close(1000); } catch { /* already closed */ }
          reject(error);
        } else {
          this._attach(ws, info);
          resolve(info);
        }
      };
      const timer = setTimeout(() => finish(new Error(
        `No answer from ${this.url} within ${this.timeout} s (handshake timed out)`)), this.timeout * 1000);
      ws.onopen = () => {
        ws.send(JSON.stringify({
          client_id: this.clientId,
          workspace: this.workspace ?? null,
          token: this.token ?? null,
          reconnection_token: this.reconnectionToken ?? null,
        }));
      };
      ws.onmessage = (event) => {
        if (typeof event.data !== "string") return; // buffered binary frames before connection_info
        let msg;
        try {
          msg = JSON.parse(event.data);
        } catch {
          finish(new Error("The server answered the handshake with text that is not JSON"));
          return;
        }
        if (msg?.type === "connection_info") {
          if (!msg.manager_id || !msg.workspace) {
            finish(new Error("connection_info from the server lacks manager_id or workspace"));
          } else if (this.workspace && msg.workspace !== this.workspace) {
            finish(new Error(`Connected to the wrong workspace: ${msg.workspace}, expected: ${this.workspace}`));
          } else {
            finish(null, msg);
          }
        } else if (msg?.type === "error") {
          finish(new ConnectionRefusedError(String(msg.message ?? "The server refused the connection")));
        } else {
          finish(new Error(`Unexpected handshake message from the server: ${String(event.data).slice(0, 200)}`));
        }
      };
      ws.onerror = () => {}; // the close event that follows carries the details
      ws.onclose = (event) => finish(new Error(
        `Could not connect to ${this.url} (socket closed with code ${event.code}${event.reason ? `: ${event.reason}` : ""})`));
    });
  }

  _attach(ws, info) {
    this._ws = ws;
    this.connectionInfo = info;
    this.workspace = info.workspace; // reconnect into the same workspace
    if (info.reconnection_token) this.reconnectionToken = info.reconnection_token;
    this._lastConnectedAt = Date.now();
    ws.onmessage = (event) => {
      if (typeof event.data === "string") this._onText(event.data);
      else this.onmessage?.(new Uint8Array(event.data));
    };
    ws.onclose = (event) => this._onSocketClosed(ws, event);
    this._startTimers(info);
    this._wakeSenders();
  }

  _onText(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg?.type === "reconnection_token" && typeof msg.reconnection_token === "string") {
      this.reconnectionToken = msg.reconnection_token;
    }
  }

  _startTimers(info) {
    this._stopTimers();
    const sendText = (obj) => {
      if (this._ws?.readyState === 1) this._ws.send(JSON.stringify(obj));
    };
    if (this.pingInterval > 0) {
      this._timers.push(setInterval(() => sendText({ type: "ping" }), this.pingInterval * 1000));
    }
    let refresh = this.tokenRefreshInterval;
    const lifetime = Number(info.reconnection_token_life_time);
    if (lifetime > 0) refresh = Math.min(refresh, lifetime / 1.5);
    if (refresh > 0) {
      this._timers.push(setTimeout(() => sendText({ type: "refresh_token" }), 2000));
      this._timers.push(setInterval(() => sendText({ type: "refresh_token" }), refresh * 1000));
    }
  }

  _stopTimers() {
    for (const id of this._timers) {
      clearInterval(id);
      clearTimeout(id);
    }
    this._timers = [];
  }

  _onSocketClosed(ws, event) {
    if (ws !== this._ws) return;
    this._ws = null;
    this._stopTimers();
    const why = `socket closed with code ${event.code}${event.reason ? `: ${event.reason}` : ""}`;
    if (this._closing) return;
    if (!this.reconnect) {
      this._finish(why);
      return;
    }
    // A connection that died within 5 s of opening is a flap: back off from the start.
    this._flaps = Date.now() - this._lastConnectedAt < 5000 ? this._flaps + 1 : 0;
    this._setState(ConnectionState.RECONNECTING, why);
    this._reconnectLoop(Math.max(0, this._flaps - 1));
  }

  async _reconnectLoop(firstAttempt) {
    for (let attempt = firstAttempt; ; attempt++) {
      if (this._closing) return;
      if (attempt - firstAttempt >= this.maxReconnectAttempts) {
        this._finish(`gave up reconnecting after ${this.maxReconnectAttempts} attempts (${this.reason})`);
        return;
      }
      if (attempt > 0) {
        const base = Math.min(1000 * 2 ** (attempt - 1), this.maxReconnectDelay * 1000);
        await sleep(base * (0.9 + Math.random() * 0.2), this._abort.signal);
        if (this._closing) return;
      }
      let info;
      try {
        info = await this._handshake();
      } catch (error) {
        if (error instanceof ConnectionRefusedError) {
          this._finish(`the server refused to reconnect: ${error.message}`);
          return;
        }
        this.reason = error.message;
        continue;
      }
      if (this._closing) {
        this._ws?.close(1000);
        return;
      }
      try {
        await this.onconnected?.(info);
      } catch (error) {
        this.dispatchEvent(new CustomEvent("error", { detail: error }));
      }
      if (this._ws) this._setState(ConnectionState.CONNECTED, "reconnected");
      return;
    }
  }

  _finish(reason) {
    if (this._closing && this.state === ConnectionState.DISCONNECTED) return;
    this._closing = true;
    this._abort.abort();
    this._stopTimers();
    const ws = this._ws;
    this._ws = null;
    if (ws) {
      ws.onclose = null;
      try { ws.close(1000); } catch { /* ignore */ }
    }
    this._setState(ConnectionState.DISCONNECTED, reason);
    this._wakeSenders();
    this.onclose?.(reason);
  }

  /**
   * Send one binary message. While (re)connecting, waits for a live socket (at most `timeout`
   * seconds).
   * @param {Uint8Array} bytes
   */
  async send(bytes) {
    if (!this._ws && !this._closing) {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          this._waiters.delete(done);
          reject(new Error(`Connection to ${this.url} did not come back within ${this.timeout} s`));
        }, this.timeout * 1000);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        this._waiters.add(done);
      });
    }
    if (!this._ws || this._ws.readyState !== 1) {
      throw new Error(`Connection is closed${this.reason ? ` (${this.reason})` : ""}`);
    }
    this._ws.send(bytes);
  }

  /** Close for good (code 1000); no reconnection follows. */
  async close(reason = "closed by the client") {
    this._finish(reason);
  }
}
