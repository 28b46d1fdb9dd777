// The agent console (/console/): /ws/agent/ applied to the page.

import { applyAgentMessage, emptyState, isLive } from "./agent-store.js";
import { CallCard } from "./call-card.js";
import { caseCallsDetails, endedCallsQuery, getJson, showCalls, showFailure } from "./call-history.js";
import { clock, duration, h, label, percent, secondsSince, syncClock, tickSince } from "./dom.js";
import { LiveSocket, showStatus } from "./live.js";

const $ = (selector) => document.querySelector(selector);
const state = emptyState();
const cards = new Map(); // call id -> CallCard
const statusLine = $("[data-testid=command-status]");
const baseTitle = document.title;

function report(ok, text, type = "") {
  statusLine.textContent = text;
  statusLine.dataset.result = ok ? "ok" : "error";
  statusLine.dataset.command = type;
  delete statusLine.dataset.applied;
}

function pbxNote(result) {
  const pbx = result && result.pbx;
  if (!pbx) return "";
  return pbx.ok ? " (phone system confirmed)" : ` (phone system: ${pbx.message || pbx.error})`;
}

/** Send a command and show how it went; rejects with the error for the caller. */
async function send(type, data, what) {
  report(true, `${what}…`, type);
  statusLine.dataset.result = "pending";
  try {
    const result = await socket.command(type, data);
    report(true, `${what}: done${pbxNote(result)}.`, type);
    return result;
  } catch (error) {
    report(false, `${what}: ${error.message || error.code}`, type);
    throw error;
  }
}

let wrapPick = null; // the ended call the agent is wrapping up (else the newest shows its form)

const actions = {
  send: (type, data, what) => send(type, data, what).catch((error) => Promise.reject(error)),
  fail: (text) => report(false, text),
  /** The agent works on this call's wrap-up: its form stays open. */
  pick(callId, focus = null) {
    if (wrapPick !== callId) {
      wrapPick = callId;
      renderCalls();
    }
    if (focus) focus.focus();
  },
  /** A disposition's ack: the call as stored, ahead of its message. */
  saved(call) {
    const entry = state.calls.get(call.id);
    if (!entry || Date.parse(entry.call.updated_at) > Date.parse(call.updated_at)) return;
    // An ended call with a disposition leaves the screen (the server's call.removed follows).
    if (isLive(call)) state.calls.set(call.id, { ...entry, call });
    else state.calls.delete(call.id);
    renderCalls();
  },
};

// -- agent and state selector ----------------------------------------------------------

function renderAgent() {
  const agent = state.agent;
  if (!agent) return;
  $("[data-role=agent-name]").textContent = agent.name;
  $("[data-role=agent-extension]").textContent = agent.extension;
  const badge = $("[data-testid=agent-state]");
  badge.textContent = label(agent.state);
  badge.dataset.state = agent.state;
  $("[data-role=state-reason]").textContent = agent.state_reason ? `(${agent.state_reason})` : "";
  // An agent whose state never changed (a new one, offline) has no time in it to show.
  $("[data-role=state-for]").hidden = !agent.state_changed_at;
  const since = $("[data-role=state-since]");
  since.dataset.since = agent.state_changed_at || "";
  since.textContent = agent.state_changed_at ? duration(secondsSince(agent.state_changed_at)) : "";
  for (const button of document.querySelectorAll("[data-state-choice]")) {
    button.setAttribute("aria-pressed", String(button.dataset.stateChoice === agent.state));
  }
  $("[data-testid=state-paused]").setAttribute("aria-pressed", String(agent.state === "paused"));
}

function setState(stateName, reason = "") {
  const what = `State ${label(stateName)}`;
  send("agent.set_state", { state: stateName, reason }, what)
    .then((result) => {
      // On a call the server keeps the phone's state: the choice waits for the call's end
      // (the PBX holds it as a queue pause or unpause). Say so, not "done".
      const kept = result && result.agent && result.agent.state;
      if (kept && kept !== stateName) {
        report(true, `${what}: after this call, you are ${label(kept)} now${pbxNote(result)}.`, "agent.set_state");
        statusLine.dataset.applied = "later";
      }
    })
    .catch(() => {});
}

for (const button of document.querySelectorAll("[data-state-choice]")) {
  button.addEventListener("click", () => setState(button.dataset.stateChoice));
}

$("[data-testid=pause-form]").addEventListener("submit", (event) => {
  event.preventDefault();
  const reason = $("[data-testid=pause-reason]").value.trim();
  if (!reason) {
    report(false, "A pause needs a reason.", "agent.set_state");
    return;
  }
  setState("paused", reason);
});

$("[data-testid=dial-form]").addEventListener("submit", (event) => {
  event.preventDefault();
  const number = $("[data-testid=dial-number]").value.replace(/[\s().-]/g, "");
  if (!/^\+?[0-9*#]{1,32}$/.test(number)) {
    report(false, "Call: digits, * and # only, with an optional leading +.", "call.originate");
    return;
  }
  send("call.originate", { number }, `Call ${number}`).catch(() => {});
});

// -- calls -------------------------------------------------------------------------------

function renderCalls() {
  const list = $("[data-testid=call-list]");
  for (const [id, card] of cards) {
    if (!state.calls.has(id)) {
      card.el.remove();
      cards.delete(id);
      refreshRecent(); // it is a recent call now
    }
  }
  // Live calls first (ringing on top), then the ones waiting for a wrap-up, newest first.
  const entries = [...state.calls.values()].sort((a, b) => {
    const rank = (e) => (isLive(e.call) ? (e.leg === "offered" ? 0 : 1) : 2);
    return rank(a) - rank(b) || Date.parse(b.call.started_at) - Date.parse(a.call.started_at);
  });
  // Ended calls wait for their wrap-up compact, and one at a time shows its form: the
  // one the agent works on (picked, or holding the focus), else the newest. Four ended
  // cards with full pops and forms made a page long enough to lose the live call in.
  const ended = entries.filter((e) => !isLive(e.call));
  const focused = [...cards.values()].find((c) => c.el.contains(document.activeElement));
  const open =
    ended.find((e) => e.call.id === wrapPick) ??
    ended.find((e) => focused && e.call.id === focused.id) ??
    ended[0];
  for (const entry of entries) {
    let card = cards.get(entry.call.id);
    if (!card) {
      card = new CallCard(entry, actions);
      cards.set(entry.call.id, card);
    }
    const queue = state.queues.get(entry.call.queue_id);
    const compact = !isLive(entry.call);
    card.update(entry, {
      queueName: queue ? queue.queue_name : "",
      dispositions: state.dispositions,
      compact,
      expanded: !compact || entry === open,
    });
  }
  placeCards(list, entries.map((entry) => cards.get(entry.call.id).el));
  $("[data-role=no-calls]").hidden = entries.length > 0;
  const ringing = entries.some((e) => isLive(e.call) && e.leg === "offered");
  document.title = ringing ? `☎ Ringing · ${baseTitle}` : baseTitle;
}

/**
 * Put the cards in this order, moving only those out of place. Moving a node out of the
 * document and back (as append does, even to where it already is) takes the focus
 * from the field inside it: keystrokes typed after that went nowhere, so wrap-up notes
 * typed while a message arrived were lost. Every message re-renders the calls, so cards
 * stay where they are unless the order changes, and a field that still loses the
 * focus to a move gets it back with its selection, before the next keystroke.
 */
function placeCards(list, elements) {
  const focused = list.contains(document.activeElement) ? document.activeElement : null;
  const selection = focused && focused.selectionStart != null // text fields only
    ? [focused.selectionStart, focused.selectionEnd, focused.selectionDirection]
    : null;
  elements.forEach((el, index) => {
    const here = list.children[index] ?? null;
    if (here === el) return;
    // moveBefore (where the browser has it) keeps the focus of a node it moves.
    if (el.parentNode === list && typeof list.moveBefore === "function") list.moveBefore(el, here);
    else list.insertBefore(el, here);
  });
  if (focused && focused.isConnected && document.activeElement !== focused) {
    focused.focus({ preventScroll: true });
    if (selection) focused.setSelectionRange(...selection);
  }
}

// -- side panels ---------------------------------------------------------------------------

const caseCalls = new Map(); // case id -> its "Calls" box, kept open across renders

function renderCases() {
  const list = $("[data-testid=case-list]");
  list.replaceChildren(
    ...(state.cases.length
      ? state.cases.map((c) =>
          h("li", { dataset: { testid: "case-item", caseId: c.id, reference: c.reference } },
            h("strong", {}, c.reference), ` ${c.title}`,
            h("span", { class: "muted" }, ` · ${label(c.status)} · ${c.priority} · ${clock(c.created_at)}`),
            caseCallsBox(c)),
        )
      : [h("li", { class: "empty" }, "None yet.")]),
  );
}

function caseCallsBox(c) {
  if (!caseCalls.has(c.id)) caseCalls.set(c.id, caseCallsDetails(c));
  return caseCalls.get(c.id);
}

// -- recent calls: the agent's own, over REST, each with its recording's player -----------

const RECENT_CALLS = 10;
let recentTimer = null;

async function loadRecent() {
  const list = $("[data-testid=recent-calls]");
  try {
    const page = await getJson(`/api/v1/calls/?${endedCallsQuery({ page_size: RECENT_CALLS })}`);
    showCalls(list, page.results, { testid: "recent-call" });
  } catch (error) {
    showFailure(list, error);
  }
}

/** Read the recent calls again, once for a burst of changes. */
function refreshRecent() {
  clearTimeout(recentTimer);
  recentTimer = setTimeout(loadRecent, 300);
}

$("[data-testid=recent-refresh]").addEventListener("click", loadRecent);

function renderQueues() {
  const rows = [...state.queues.values()].map((q) => {
    const longest = h("td", { dataset: { testid: "queue-longest" } });
    if (q.longest_wait_seconds != null) {
      longest.dataset.waitBase = q.longest_wait_seconds;
      longest.dataset.waitAt = state.queuesAt.get(q.queue_id);
    }
    const row = h("tr", { dataset: { testid: "queue-row", queueId: q.queue_id } },
      h("th", { scope: "row" }, q.queue_name),
      h("td", { dataset: { testid: "queue-waiting" } }, q.callers_waiting),
      longest,
      h("td", {}, percent(q.service_level_percent)),
      h("td", {}, `${q.answered}/${q.offered}`),
      h("td", {}, q.agents_by_state.available ?? 0),
    );
    row.classList.toggle("waiting", q.callers_waiting > 0);
    return row;
  });
  $("[data-testid=queue-panel] tbody").replaceChildren(...rows);
  tickWaits();
}

function tickWaits() {
  for (const cell of document.querySelectorAll("[data-wait-base]")) {
    const elapsed = (Date.now() - Number(cell.dataset.waitAt)) / 1000;
    cell.textContent = duration(Number(cell.dataset.waitBase) + elapsed);
  }
  for (const cell of document.querySelectorAll("[data-testid=queue-longest]:not([data-wait-base])")) {
    cell.textContent = "–";
  }
}

function renderNotifications() {
  const items = state.notifications.map((n) => {
    const read = h("button", { type: "button", class: "link", dataset: { testid: "notification-read" } }, "Mark read");
    read.addEventListener("click", () =>
      send("notification.mark_read", { notification_id: n.id }, "Mark read").catch(() => {}),
    );
    return h("li", { dataset: { testid: "notification-item", notificationId: n.id } },
      h("strong", {}, n.title), n.body ? h("p", {}, n.body) : null,
      h("span", { class: "muted" }, clock(n.created_at)), " ", read);
  });
  $("[data-testid=notification-list]").replaceChildren(
    ...(items.length ? items : [h("li", { class: "empty" }, "Nothing unread.")]),
  );
  $("[data-role=notification-count]").textContent = items.length ? `(${items.length})` : "";
}

// -- wiring ----------------------------------------------------------------------------------

const renderers = {
  agent: renderAgent,
  calls: renderCalls,
  queues: () => {
    renderQueues();
    renderCalls(); // cards name their queue
  },
  notifications: renderNotifications,
  dispositions: renderCalls,
  cases: renderCases,
};

// The messages the softphone module has not heard yet. It is a module of its own with
// bigger imports (JsSIP, the Twilio SDK), so the first snapshot may arrive before it
// runs: it takes these when it starts (it used to miss the snapshot and stay "off").
const earlyMessages = [];
let keepEarly = true;
window.ccConsoleEarlyMessages = () => {
  keepEarly = false;
  return earlyMessages.splice(0);
};

function onMessage(message) {
  syncClock(message.ts); // timers count on the server's clock, not this machine's
  for (const part of applyAgentMessage(state, message)) renderers[part]();
  if (message.type === "snapshot") refreshRecent(); // on (re)connect: what ended meanwhile
  if (message.type === "error" && message.data.id == null) report(false, message.data.message);
  // For the softphone (softphone.js), once the cards show this message.
  if (keepEarly) {
    if (message.type === "snapshot") earlyMessages.length = 0; // it holds all before it
    earlyMessages.push(message);
  }
  document.dispatchEvent(new CustomEvent("console:message", { detail: message }));
}

const banner = $("[data-testid=offline-banner]");
const socket = new LiveSocket(document.body.dataset.socket, {
  onMessage,
  onStatus: (status) => showStatus(banner, status, document.body.dataset.loginUrl),
});
tickSince();
setInterval(tickWaits, 1000);
socket.start();
