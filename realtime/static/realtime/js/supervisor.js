// The supervisor page (/supervisor/): /ws/supervisor/ applied to the page. The snapshot
// and every floor.update carry the whole floor (every agent, their queues and call, the
// callers waiting), so each message replaces what is shown; between messages only the
// clocks tick (time in state, call duration, wait). Each button sends one command on
// the socket (docs/supervisor.md); the answer shows in the message line, the effect in
// the next messages. The queues' raised alerts are listed in #alerts (alert.raised and
// alert.cleared keep it current; docs/supervisor.md#alerts).

import { duration, h, label, secondsSince, syncClock, tickSince } from "./dom.js";
import { LiveSocket, showStatus } from "./live.js";

const $ = (selector) => document.querySelector(selector);
const me = Number(document.body.dataset.userId);
const MODES = ["listen", "whisper", "barge"];
const LIVE = new Set(["in_progress", "on_hold"]);

const floor = { ready: false, agents: [], waiting: [], queues: [], online: new Set(), phone: "", alerts: new Map() };

function applyMessage(message) {
  syncClock(message.ts);
  const data = message.data;
  if (message.type === "snapshot") {
    Object.assign(floor, { ready: true, agents: data.agents, waiting: data.waiting, queues: data.queues });
    floor.online = new Set(data.online_agent_ids);
    floor.phone = data.phone;
    floor.alerts = new Map(data.alerts.map((a) => [a.id, a]));
    return true;
  }
  if (!floor.ready) return false;
  if (message.type === "floor.update") {
    Object.assign(floor, { agents: data.agents, waiting: data.waiting, queues: data.queues });
    return true;
  }
  if (message.type === "alert.raised" || message.type === "alert.cleared") {
    if (message.type === "alert.raised") floor.alerts.set(data.alert.id, data.alert);
    else floor.alerts.delete(data.alert.id);
    renderAlerts(); // not held back by a select being used: it is outside the tables
    return false;
  }
  if (message.type === "agent.presence") {
    if (data.online) floor.online.add(data.agent_id);
    else floor.online.delete(data.agent_id);
    return true;
  }
  return false;
}

function act(type, data, done) {
  const line = $("[data-testid=floor-message]");
  line.textContent = "…";
  line.dataset.result = "pending";
  socket.command(type, data).then(
    () => { line.textContent = done; line.dataset.result = "ok"; },
    (error) => { line.textContent = error.message || error.code; line.dataset.result = "error"; },
  );
}

const button = (testid, text, onclick, extra = {}) =>
  h("button", { type: "button", dataset: { testid }, onclick, ...extra }, text);

function callerOf(call) {
  return call.caller_name ? `${call.caller_name} ${call.caller_number}` : call.caller_number || call.callee_number;
}

function mine(floorCall) {
  return floorCall.monitors.find((m) => m.supervisor_user_id === me) || null;
}

function callCell(a) {
  const fc = a.call;
  if (!fc) return h("td", { class: "muted" }, "–");
  const call = fc.call;
  const since = call.answered_at || call.started_at;
  return h("td", { dataset: { testid: "agent-call", callId: call.id, status: call.status,
    monitorMode: mine(fc)?.mode || "" } },
    h("div", {}, callerOf(call), fc.queue_name ? h("small", {}, ` · ${fc.queue_name}`) : ""),
    h("div", {},
      h("span", { class: "muted", dataset: { since } }, duration(secondsSince(since))),
      " ",
      call.status === "on_hold" ? h("span", { class: "tag", dataset: { testid: "call-on-hold" } }, "on hold") : "",
      call.recording === "recording" ? h("span", { class: "tag", dataset: { testid: "call-recording" } }, "recording") : "",
      call.recording === "paused" ? h("span", { class: "tag" }, "recording paused") : "",
      fc.monitors.map((m) => h("span", { class: "tag monitor", dataset: { testid: "call-monitor", mode: m.mode } },
        `${m.supervisor_name}: ${m.mode}`)),
    ),
  );
}

function queuesCell(a) {
  const name = a.agent.name;
  return h("td", {},
    h("ul", { class: "queues" }, a.queues.map((m) =>
      h("li", { dataset: { testid: "agent-queue", queueId: m.queue_id, paused: String(m.paused) } },
        m.queue_name, h("small", {}, ` (penalty ${m.penalty}${m.paused ? ", paused" : ""}${m.logged_in ? "" : ", logged out"})`),
        " ",
        button("queue-remove", "×", () =>
          act("agent.queue_remove", { agent_id: a.agent.id, queue_id: m.queue_id }, `${name} left ${m.queue_name}.`),
        { title: `Remove from ${m.queue_name}` }),
      ))),
    a.queues.length ? "" : h("span", { class: "muted" }, "in no queue"),
  );
}

function addToQueue(a) {
  const serving = new Set(a.queues.map((m) => m.queue_id));
  const open = floor.queues.filter((q) => !serving.has(q.id));
  if (!open.length) return "";
  const select = h("select", { dataset: { testid: "queue-add-queue" }, "aria-label": "Queue" },
    open.map((q) => h("option", { value: q.id }, q.name)));
  const penalty = h("input", { type: "number", min: 0, max: 1000, value: 0, dataset: { testid: "queue-add-penalty" },
    "aria-label": "Penalty" });
  return h("span", { class: "actions" }, select, penalty, button("queue-add", "Add to queue", () => {
    const queue = floor.queues.find((q) => q.id === Number(select.value));
    act("agent.queue_add", { agent_id: a.agent.id, queue_id: Number(select.value), penalty: Number(penalty.value) },
      `${a.agent.name} added to ${queue?.name} (penalty ${penalty.value}).`);
  }));
}

function monitorButtons(a) {
  const fc = a.call;
  if (!fc || !LIVE.has(fc.call.status)) return [];
  const current = mine(fc);
  const noPhone = !floor.phone;
  const buttons = MODES.map((mode) =>
    button(`monitor-${mode}`, mode[0].toUpperCase() + mode.slice(1), () =>
      act("call.monitor", { call_id: fc.call.id, mode }, `Your phone rings to ${mode}: ${a.agent.name}'s call.`),
    { disabled: noPhone, "aria-pressed": String(current?.mode === mode), title: noPhone ? "You have no phone" : "" }));
  if (current) {
    buttons.push(button("monitor-stop", "Stop", () =>
      act("call.monitor_stop", { call_id: fc.call.id }, `Stopped monitoring ${a.agent.name}.`)));
  }
  buttons.push(button("call-hang-up", "Hang up", () => {
    if (window.confirm(`Hang up ${a.agent.name}'s call?`)) {
      act("call.force_hangup", { call_id: fc.call.id }, `${a.agent.name}'s call hung up.`);
    }
  }));
  return buttons;
}

function agentRow(a) {
  const agent = a.agent;
  const pause = agent.state === "paused"
    ? button("agent-resume", "Resume", () => act("agent.pause", { agent_id: agent.id, paused: false }, `${agent.name} resumed.`))
    : button("agent-pause", "Pause", () => {
      const reason = window.prompt(`Pause ${agent.name}: why?`, "coaching");
      if (reason) act("agent.pause", { agent_id: agent.id, paused: true, reason }, `${agent.name} paused: ${reason}.`);
    });
  const online = floor.online.has(agent.id);
  return h("tr", { class: `state-${agent.state}`, dataset: { testid: "floor-agent", agentId: agent.id, state: agent.state } },
    h("td", {}, h("span", { class: "dot", dataset: { online: String(online) }, title: online ? "console open" : "console closed" }),
      agent.name, h("small", {}, ` ${agent.extension}`)),
    h("td", {}, h("span", { class: "state", dataset: { testid: "agent-state" } }, label(agent.state)),
      agent.state_reason ? h("small", {}, ` (${agent.state_reason})`) : ""),
    h("td", { dataset: { since: agent.state_changed_at || "" } }, duration(secondsSince(agent.state_changed_at))),
    callCell(a),
    queuesCell(a),
    h("td", {}, h("div", { class: "actions" },
      pause,
      button("agent-log-out", "Log out", () => act("agent.log_out", { agent_id: agent.id }, `${agent.name} logged out.`)),
      ...monitorButtons(a),
    ), addToQueue(a)),
  );
}

function waitingRow(fc) {
  const call = fc.call;
  const agents = h("select", { dataset: { testid: "move-agent-choice" }, "aria-label": "Agent" },
    floor.agents.map((a) => h("option", { value: a.agent.id }, `${a.agent.name} (${label(a.agent.state)})`)));
  const queues = h("select", { dataset: { testid: "move-queue-choice" }, "aria-label": "Queue" },
    floor.queues.filter((q) => q.id !== fc.queue_id).map((q) => h("option", { value: q.id }, q.name)));
  return h("tr", { dataset: { testid: "waiting-call", callId: call.id } },
    h("td", {}, callerOf(call)),
    h("td", {}, fc.queue_name),
    h("td", { dataset: { since: call.queued_at || call.started_at } }, duration(secondsSince(call.queued_at || call.started_at))),
    h("td", {}, h("div", { class: "actions" },
      agents, button("move-agent", "Move to agent", () =>
        act("call.move", { call_id: call.id, agent_id: Number(agents.value) }, "The caller is moved: the agent's phone rings.")),
      queues.options.length ? queues : "", queues.options.length ? button("move-queue", "Move to queue", () =>
        act("call.move", { call_id: call.id, queue_id: Number(queues.value) }, "The caller is moved to the other queue.")) : "",
    )),
    h("td", {}, button("call-hang-up", "Hang up", () => {
      if (window.confirm("Hang up this caller?")) act("call.force_hangup", { call_id: call.id }, "The caller is hung up.");
    })),
  );
}

function renderAlerts() {
  const alerts = [...floor.alerts.values()].sort((a, b) => a.raised_at.localeCompare(b.raised_at));
  const box = $("#alerts");
  box.setAttribute("role", "alert");
  box.replaceChildren(
    ...alerts.map((a) =>
      h("p", { class: "queue-alert", dataset: { testid: "alert", kind: a.kind, queueId: a.queue_id } },
        h("strong", {}, a.queue_name), " ", a.text),
    ),
  );
}

function render() {
  renderAlerts();
  // Keep what the supervisor is typing or choosing: a message must not take the select away.
  const active = document.activeElement;
  if (active && (active.tagName === "SELECT" || active.tagName === "INPUT") && active.closest(".floor")) {
    pendingRender = true;
    return;
  }
  pendingRender = false;
  $("[data-testid=no-phone]").hidden = Boolean(floor.phone);
  $("[data-testid=online-count]").textContent = floor.online.size;
  $("[data-testid=floor-agents] tbody").replaceChildren(
    ...(floor.agents.length ? floor.agents.map(agentRow) : [h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No agent."))]),
  );
  $("[data-testid=floor-waiting] tbody").replaceChildren(
    ...(floor.waiting.length ? floor.waiting.map(waitingRow) : [h("tr", {}, h("td", { colspan: 5, class: "muted" }, "Nobody is waiting."))]),
  );
}

let pendingRender = false;
document.addEventListener("focusout", () => setTimeout(() => { if (pendingRender) render(); }, 0));

const banner = $("[data-testid=offline-banner]");
const socket = new LiveSocket(document.body.dataset.socket, {
  onMessage: (message) => {
    if (applyMessage(message)) render();
  },
  onStatus: (status) => showStatus(banner, status, document.body.dataset.loginUrl),
});
tickSince();
socket.start();
