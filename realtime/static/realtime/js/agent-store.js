// The agent console's state, and the protocol's apply rules (docs/realtime-protocol.md,
// "Agent stream"): a snapshot replaces everything, each event changes one part.
// Pure data: no DOM here.

const CALL_MESSAGES = new Set([
  "call.ringing",
  "call.answered",
  "call.held",
  "call.resumed",
  "call.transferred",
  "call.ended",
  "call.updated",
]);

export function emptyState() {
  return {
    ready: false, // a snapshot has been applied
    agent: null,
    online: false,
    calls: new Map(), // call id -> {call, leg, pop}
    queues: new Map(), // queue id -> queue stats
    queuesAt: new Map(), // queue id -> Date.now() when its figures arrived
    notifications: [], // unread, newest first
    dispositions: [],
    cases: [], // case.created this session, newest first (not in the snapshot)
  };
}

function stamp(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

/** Apply one message; returns the set of parts that changed ("agent", "calls", ...). */
export function applyAgentMessage(state, message) {
  const data = message.data;
  if (message.type === "snapshot") {
    const now = Date.now();
    state.ready = true;
    state.agent = data.agent;
    state.online = data.online;
    state.calls = new Map(data.calls.map((entry) => [entry.call.id, entry]));
    state.queues = new Map(data.queues.map((q) => [q.queue_id, q]));
    state.queuesAt = new Map(data.queues.map((q) => [q.queue_id, now]));
    state.notifications = [...data.notifications];
    state.dispositions = [...data.dispositions];
    return new Set(["agent", "calls", "queues", "notifications", "dispositions", "cases"]);
  }
  if (!state.ready) return new Set(); // events before the first snapshot: it has them
  if (message.type === "agent.state") {
    state.agent = data.agent;
    return new Set(["agent"]);
  }
  if (message.type === "agent.presence") {
    if (state.agent && data.agent_id === state.agent.id) state.online = data.online;
    return new Set(["agent"]);
  }
  if (CALL_MESSAGES.has(message.type)) {
    const known = state.calls.get(data.call.id);
    // Two publishers may race: keep the newest version of a call.
    if (known && stamp(known.call.updated_at) > stamp(data.call.updated_at)) return new Set();
    state.calls.set(data.call.id, { ...data, messageType: message.type });
    return new Set(["calls"]);
  }
  if (message.type === "call.removed") {
    state.calls.delete(data.call_id);
    return new Set(["calls"]);
  }
  if (message.type === "queue.stats") {
    state.queues.set(data.queue.queue_id, data.queue);
    state.queuesAt.set(data.queue.queue_id, Date.now());
    return new Set(["queues"]);
  }
  if (message.type === "notification.created") {
    const n = data.notification;
    state.notifications = [n, ...state.notifications.filter((x) => x.id !== n.id)];
    return new Set(["notifications"]);
  }
  if (message.type === "notification.read") {
    state.notifications = state.notifications.filter((x) => x.id !== data.notification_id);
    return new Set(["notifications"]);
  }
  if (message.type === "case.created") {
    const c = data.case;
    state.cases = [c, ...state.cases.filter((x) => x.id !== c.id)];
    return new Set(["cases"]);
  }
  return new Set(); // hello, ack, error, pong, and types this client does not know
}

const LIVE = new Set(["queued", "ringing", "in_progress", "on_hold"]);

export function isLive(call) {
  return LIVE.has(call.status);
}

/** What the agent sees as the call's situation, e.g. "Ringing", "Talking". */
export function callSituation(entry) {
  const { call, leg } = entry;
  if (!isLive(call)) return call.status === "completed" ? "Ended" : call.status.replaceAll("_", " ");
  if (leg === "offered") return "Ringing";
  if (call.status === "on_hold") return "On hold";
  if (call.status === "in_progress") return leg === "done" ? "Handed over" : "Talking";
  if (call.status === "ringing") return call.direction === "outbound" ? "Dialling" : "Ringing";
  return "Waiting in queue";
}
