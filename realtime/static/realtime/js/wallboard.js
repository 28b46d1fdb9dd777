// The supervisor wallboard (/wallboard/, optional ?queue=): /ws/wallboard/ applied to
// the page. Figures come from the server (docs/figures.md); between messages only the
// clocks move: the longest wait and each agent's time in state tick locally from the
// message's figure. Every figure element carries its raw figure in data-value (JSON).
// A longest wait turns red once past its queue's service-level threshold, also while it
// ticks between messages; the "All queues" tile's, once any queue's wait is past its own.
// "Updated" is the time of the last message, in the organization's time zone (the one
// "today" is counted in), not the browser's.

import { duration, h, label, percent } from "./dom.js";
import { LiveSocket, showStatus } from "./live.js";

const $ = (selector) => document.querySelector(selector);
const STATES = ["available", "ringing", "on_call", "wrap_up", "paused", "offline"];

const board = {
  ready: false,
  queues: new Map(), // queue id -> QueueBoard
  at: new Map(), // queue id -> Date.now() when its figures arrived
  totals: null,
  totalsAt: 0,
  online: new Set(),
  alerts: new Map(), // alert id -> QueueAlert, while raised (docs/supervisor.md#alerts)
  timeZone: "",
  updatedAt: null, // the last figures' message "ts"
};

function applyMessage(message) {
  const data = message.data;
  const now = Date.now();
  if (message.type === "snapshot") {
    board.ready = true;
    board.queues = new Map(data.queues.map((q) => [q.queue_id, q]));
    board.at = new Map(data.queues.map((q) => [q.queue_id, now]));
    board.totals = data.totals;
    board.totalsAt = now;
    board.online = new Set(data.online_agent_ids);
    board.alerts = new Map(data.alerts.map((a) => [a.id, a]));
    board.timeZone = data.time_zone;
    board.updatedAt = message.ts;
    $("[data-role=time-zone]").textContent = data.time_zone;
    return true;
  }
  if (!board.ready) return false;
  if (message.type === "wallboard.update") {
    for (const queue of data.queues) {
      board.queues.set(queue.queue_id, queue);
      board.at.set(queue.queue_id, now);
    }
    board.totals = data.totals;
    board.totalsAt = now;
    board.updatedAt = message.ts;
    return true;
  }
  if (message.type === "alert.raised") {
    board.alerts.set(data.alert.id, data.alert);
    return true;
  }
  if (message.type === "alert.cleared") {
    board.alerts.delete(data.alert.id);
    return true;
  }
  if (message.type === "agent.presence") {
    if (data.online) board.online.add(data.agent_id);
    else board.online.delete(data.agent_id);
    return true;
  }
  return false;
}

function figure(name, title, value, text, extra = {}) {
  return h(
    "div",
    { class: `figure ${extra.class || ""}`, dataset: { testid: `figure-${name}`, value: JSON.stringify(value ?? null), ...extra.data } },
    h("span", { class: "value" }, text),
    h("span", { class: "label" }, title),
  );
}

function seconds(value) {
  return value == null ? "–" : `${Math.round(value)} s`;
}

function ticking(base, at, lateAfter = null) {
  // The figure as of the message, plus what has passed since it arrived; past lateAfter
  // (the same clock), the element turns red.
  if (base == null) return {};
  return lateAfter == null ? { tickBase: base, tickAt: at } : { tickBase: base, tickAt: at, lateAfter };
}

/** Seconds the longest wait may still grow before a queue in ``queues`` is late. */
function slack(queues) {
  let least = null;
  for (const q of queues) {
    if (q.longest_wait_seconds == null || q.service_level_seconds == null) continue;
    const waited = q.longest_wait_seconds + (Date.now() - board.at.get(q.queue_id)) / 1000;
    const left = q.service_level_seconds - waited;
    if (least === null || left < least) least = left;
  }
  return least;
}

/** q: a queue's figures, or the totals (whose longest wait is late when any queue's is). */
function figures(q, at) {
  const slThreshold = q.service_level_seconds;
  let lateAfter = slThreshold ?? null;
  if (slThreshold == null && q.longest_wait_seconds != null) {
    const left = slack(board.queues.values());
    if (left !== null) lateAfter = q.longest_wait_seconds + (Date.now() - at) / 1000 + left;
  }
  const waitLate = q.longest_wait_seconds != null && lateAfter != null && q.longest_wait_seconds > lateAfter;
  return [
    h("div", { class: "headline" },
      figure("callers_waiting", "waiting", q.callers_waiting, q.callers_waiting,
        { class: q.callers_waiting > 0 ? "warn" : "" }),
      figure("longest_wait_seconds", "longest wait", q.longest_wait_seconds, duration(q.longest_wait_seconds),
        { class: waitLate ? "alert" : "", data: ticking(q.longest_wait_seconds, at, lateAfter) }),
      figure("service_level_percent", slThreshold != null ? `in ${slThreshold} s` : "service level",
        q.service_level_percent, percent(q.service_level_percent),
        { class: q.service_level_percent != null && q.service_level_percent < 80 ? "alert" : "" }),
    ),
    h("div", { class: "grid" },
      figure("offered", "offered", q.offered, q.offered),
      figure("answered", "answered", q.answered, q.answered),
      figure("abandoned", `abandoned (+${q.short_abandoned} short)`, q.abandoned, q.abandoned),
      figure("abandon_rate_percent", "abandon rate", q.abandon_rate_percent, percent(q.abandon_rate_percent)),
      figure("callbacks_waiting", "callbacks waiting", q.callbacks_waiting, q.callbacks_waiting),
      figure("voicemails_waiting", "voicemails waiting", q.voicemails_waiting, q.voicemails_waiting),
      figure("asa_seconds", "ASA", q.asa_seconds, seconds(q.asa_seconds)),
      figure("aht_seconds", "AHT", q.aht_seconds, seconds(q.aht_seconds)),
    ),
    h("div", { class: "states", dataset: { testid: "figure-agents_by_state", value: JSON.stringify(q.agents_by_state) } },
      STATES.filter((s) => s in q.agents_by_state).map((s) =>
        h("span", { class: `chip state-${s}`, dataset: { state: s, count: q.agents_by_state[s] } },
          h("b", {}, q.agents_by_state[s]), ` ${label(s)}`),
      ),
    ),
  ];
}

// The supervisor's hand (docs/supervisor.md): each button sends one command on this
// socket; the PBX's answer shows in the message line, its effect in the next messages.
function act(type, data, done) {
  const line = $("[data-testid=board-message]");
  line.textContent = "…";
  socket.command(type, data).then(
    () => { line.textContent = done; },
    (error) => { line.textContent = error.message || error.code; },
  );
}

function agentActions(q, a) {
  const id = a.agent_id;
  const button = (name, text, onclick) =>
    h("button", { type: "button", dataset: { testid: `agent-${name}` }, onclick }, text);
  const pause = a.state === "paused"
    ? button("resume", "Resume", () => act("agent.pause", { agent_id: id, paused: false }, `${a.name} resumed.`))
    : button("pause", "Pause", () => {
      const reason = window.prompt(`Pause ${a.name}: why?`, "coaching");
      if (reason) act("agent.pause", { agent_id: id, paused: true, reason }, `${a.name} paused: ${reason}.`);
    });
  return h("span", { class: "agent-actions" },
    pause,
    button("remove", `Remove from ${q.queue_name}`, () =>
      act("agent.queue_remove", { agent_id: id, queue_id: q.queue_id }, `${a.name} left ${q.queue_name}.`)),
    button("log-out", "Log out", () => act("agent.log_out", { agent_id: id }, `${a.name} logged out.`)),
  );
}

function agentRows(q, at) {
  return h("ul", { class: "agents", dataset: { testid: "queue-agents" } },
    q.agents.map((a) =>
      h("li", { class: `state-${a.state}`, dataset: { testid: "board-agent", agentId: a.agent_id, state: a.state } },
        h("span", { class: "dot", title: board.online.has(a.agent_id) ? "console open" : "console closed",
          dataset: { online: String(board.online.has(a.agent_id)) } }),
        h("span", { class: "agent-name" }, a.name, h("small", {}, ` ${a.extension}`)),
        h("span", { class: "agent-state" }, label(a.state), a.reason ? ` (${a.reason})` : "",
          a.paused_in_queue ? " · paused here" : ""),
        h("span", { class: "agent-time", dataset: ticking(a.seconds_in_state, at) }, duration(a.seconds_in_state)),
        agentActions(q, a),
      ),
    ),
  );
}

// The raised alerts, oldest first, above the tiles; a queue with one has its tile marked.
function renderAlerts() {
  const list = $("[data-testid=alerts]");
  const alerts = [...board.alerts.values()].sort((a, b) => a.raised_at.localeCompare(b.raised_at));
  list.hidden = !alerts.length;
  list.replaceChildren(
    ...alerts.map((a) =>
      h("li", { class: "board-alert", dataset: { testid: "alert", kind: a.kind, queueId: a.queue_id } },
        h("strong", {}, a.queue_name), " ", a.text),
    ),
  );
  return new Set(alerts.map((a) => a.queue_id));
}

function render() {
  const tiles = $("[data-testid=queue-tiles]");
  const queues = [...board.queues.values()];
  const alerting = renderAlerts();
  tiles.replaceChildren(
    ...queues.map((q) => {
      const at = board.at.get(q.queue_id);
      const cls = alerting.has(q.queue_id) ? "tile alerting" : "tile";
      return h("section", { class: cls, dataset: { testid: "queue-tile", queueId: q.queue_id, queueName: q.queue_name } },
        h("h2", {}, q.queue_name), ...figures(q, at), agentRows(q, at));
    }),
  );
  if (!queues.length) tiles.append(h("p", { class: "empty" }, "No active queue."));
  const totals = $("[data-testid=totals-tile]");
  totals.hidden = !board.totals || queues.length < 2;
  if (board.totals) totals.replaceChildren(h("h2", {}, "All queues"), ...figures(board.totals, board.totalsAt));
  $("[data-testid=online-count]").textContent = board.online.size;
  showUpdated();
  tick();
}

function showUpdated() {
  const el = $("[data-role=updated]");
  if (!board.updatedAt) return;
  const at = new Date(board.updatedAt);
  el.dateTime = board.updatedAt;
  try {
    el.textContent = at.toLocaleTimeString([], { timeZone: board.timeZone, timeZoneName: "short" });
  } catch {
    // A zone this browser does not know: its own clock, said as such.
    el.textContent = `${at.toLocaleTimeString([], { timeZoneName: "short" })} (your clock)`;
  }
}

function tick() {
  for (const el of document.querySelectorAll("[data-tick-base]")) {
    const elapsed = (Date.now() - Number(el.dataset.tickAt)) / 1000;
    const value = Number(el.dataset.tickBase) + elapsed;
    const target = el.querySelector(".value") || el;
    target.textContent = duration(value);
    if (el.dataset.lateAfter != null) el.classList.toggle("alert", value > Number(el.dataset.lateAfter));
  }
}

const banner = $("[data-testid=offline-banner]");
const socket = new LiveSocket(document.body.dataset.socket, {
  onMessage: (message) => {
    if (applyMessage(message)) render();
  },
  onStatus: (status) => showStatus(banner, status, document.body.dataset.loginUrl),
});
setInterval(tick, 1000);
socket.start();
