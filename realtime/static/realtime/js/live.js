// A WebSocket that keeps itself open: the client side of docs/realtime-protocol.md.
//
// - Reconnects by itself with exponential backoff and full jitter (each wait anywhere
//   between nothing and its ceiling); every (re)connection starts with hello +
//   snapshot, so the page rebuilds from the snapshot and never needs the messages it
//   missed. When a server restarts, thousands of pages lose their socket at the same
//   instant: the jitter spreads their returns over the first ceiling (2 s), then over
//   wider ones while the server is still away, instead of one burst every ceiling.
// - Sends a ping every hello.heartbeat_seconds; a socket that stays silent for two
//   heartbeats is taken as dead and replaced (a half-open TCP connection never closes).
// - command(type, data) sends {type, id, data} and resolves with the ack's result or
//   rejects with the data of the `error` message (or {code: "offline"} when not connected).
// - Close codes the server uses for a refusal stop the retries (retrying cannot help).

const FINAL = new Map([
  [4003, "This page's origin is not allowed by the server."],
  [4400, "The page asked for something the server does not understand."],
  [4401, "Your session has ended: sign in again."],
  [4403, "Your account may not open this screen."],
  [4404, "Not found: the queue does not exist (any more)."],
]);

// The protocol this page speaks (docs/realtime-protocol.md). A server on another version
// was upgraded under an open page: the page loads itself again, once per version.
const PROTOCOL = 2;
const RELOADED_FOR = "cc-live-reloaded-for-protocol";

const BACKOFF_FIRST_MS = 2000; // the first wait's ceiling: a storm's spread
const BACKOFF_MAX_MS = 15000;
const COMMAND_TIMEOUT_MS = 20000; // more than the server's PBX timeout

export class LiveSocket {
  /**
   * @param {string} path e.g. "/ws/agent/"
   * @param {{onMessage: (message: object) => void, onStatus: (status: object) => void}} handlers
   *   onStatus gets {state: "connecting" | "online" | "offline" | "refused", code, message, retryInMs}
   */
  constructor(path, { onMessage, onStatus }) {
    this.url = new URL(path, window.location.href);
    this.url.protocol = this.url.protocol === "https:" ? "wss:" : "ws:";
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.ws = null;
    this.attempt = 0;
    this.pending = new Map();
    this.nextId = 1;
    this.heartbeatMs = 20000;
    this.pingTimer = null;
    this.retryTimer = null;
    this.lastHeard = 0;
    this.stopped = false;
    window.addEventListener("online", () => this.reconnectNow());
  }

  reloadFor(version) {
    if (window.sessionStorage.getItem(RELOADED_FOR) === String(version)) return false;
    window.sessionStorage.setItem(RELOADED_FOR, String(version));
    window.location.reload();
    return true;
  }

  start() {
    this.stopped = false;
    this.open();
  }

  open() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.onStatus({ state: "connecting" });
    let ws;
    try {
      ws = new WebSocket(this.url.href);
    } catch (err) {
      this.scheduleRetry(0, String(err));
      return;
    }
    this.ws = ws;
    ws.addEventListener("message", (event) => this.receive(ws, event));
    ws.addEventListener("close", (event) => this.closed(ws, event));
  }

  receive(ws, event) {
    if (ws !== this.ws) return;
    this.lastHeard = Date.now();
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return; // not ours to fix; the next snapshot will be
    }
    if (message.type === "hello") {
      if (message.data.protocol !== PROTOCOL && this.reloadFor(message.data.protocol)) return;
      this.heartbeatMs = Math.max(1, message.data.heartbeat_seconds) * 1000;
      this.startHeartbeat(ws);
    } else if (message.type === "snapshot") {
      this.attempt = 0; // a connection that got this far is a good one
      this.onStatus({ state: "online" });
    } else if (message.type === "ack" || message.type === "error") {
      const id = message.data.id;
      const waiter = id != null ? this.pending.get(id) : undefined;
      if (waiter) {
        this.pending.delete(id);
        clearTimeout(waiter.timer);
        if (message.type === "ack") waiter.resolve(message.data.result);
        else waiter.reject(message.data);
      }
    }
    this.onMessage(message);
  }

  startHeartbeat(ws) {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (ws !== this.ws || ws.readyState !== WebSocket.OPEN) return;
      if (Date.now() - this.lastHeard > 2 * this.heartbeatMs + 1000) {
        ws.close(4000, "no answer to pings"); // dead: the close handler reconnects
        return;
      }
      ws.send(JSON.stringify({ type: "ping", id: `ping-${this.nextId++}`, data: {} }));
    }, this.heartbeatMs);
  }

  closed(ws, event) {
    if (ws !== this.ws) return;
    this.ws = null;
    clearInterval(this.pingTimer);
    for (const [id, waiter] of this.pending) {
      clearTimeout(waiter.timer);
      waiter.reject({ id, code: "offline", message: "The connection closed before an answer." });
    }
    this.pending.clear();
    if (this.stopped) return;
    const final = FINAL.get(event.code);
    if (final) {
      this.onStatus({ state: "refused", code: event.code, message: final });
      return;
    }
    this.scheduleRetry(event.code, event.reason);
  }

  scheduleRetry(code, reason) {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    // Full jitter: "half the ceiling plus a random half" kept every page of a storm
    // away for at least that half, then brought them all back within the other half.
    const delay = Math.round(Math.random() * ceiling);
    this.attempt += 1;
    this.onStatus({ state: "offline", code, message: reason || "", retryInMs: delay });
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  reconnectNow() {
    if (this.stopped || this.ws) return;
    this.attempt = 0;
    this.open();
  }

  /** Send a command; resolves with the ack's result, rejects with the error's data. */
  command(type, data) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject({ code: "offline", message: "Not connected: try again when back online." });
    }
    const id = `c${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject({ id, code: "timeout", message: "No answer from the server." });
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      ws.send(JSON.stringify({ type, id, data }));
    });
  }
}

/** Show or hide the offline banner for a LiveSocket status. */
export function showStatus(banner, status, loginUrl) {
  const text = banner.querySelector("[data-role=banner-text]");
  document.body.dataset.connection = status.state;
  if (status.state === "online") {
    banner.hidden = true;
    return;
  }
  banner.hidden = false;
  if (status.state === "connecting") {
    text.textContent = "Connecting…";
  } else if (status.state === "refused") {
    text.textContent = status.message;
    if (status.code === 4401 && loginUrl) {
      const next = encodeURIComponent(window.location.pathname + window.location.search);
      window.location.assign(`${loginUrl}?next=${next}`);
    }
  } else {
    const seconds = Math.max(1, Math.round((status.retryInMs || 0) / 1000));
    text.textContent = `Connection lost; reconnecting in ${seconds} s…`;
  }
}
