// The console's callbacks (docs/callbacks.md), over REST with the page's session:
// - the callback offered to this agent (GET /api/v1/callbacks/offer/): the number, the
//   queue, how long it has waited; "Call back" has the agent's phone call the customer
//   (POST {id}/accept/), "Not now" passes it on (POST {id}/decline/);
// - a form to schedule one ("call me at 15:00": POST /api/v1/callbacks/).
// The offer is read again on each agent message (the server publishes the agent when an
// offer is made or withdrawn; console.js re-dispatches messages as "console:message") and
// every POLL_MS as a fallback.

import { getJson } from "./call-history.js";
import { duration, h, secondsSince } from "./dom.js";

const POLL_MS = 15000;
const panel = document.querySelector("[data-role=callbacks]");
const offerBox = panel.querySelector("[data-testid=callback-offer]");
const form = panel.querySelector("[data-testid=callback-form]");
const status = panel.querySelector("[data-testid=callback-status]");
const queues = new Map(); // id -> name

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** POST JSON to the API; resolves with the body, rejects with the API's message. */
async function post(url, body = null) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": csrfToken(), Accept: "application/json", "Content-Type": "application/json" },
    body: body === null ? null : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = (data.errors && data.errors[0]) || {};
    throw Object.assign(new Error(error.detail || `the server answered ${response.status}`), {
      code: error.code || "",
      attr: error.attr || "",
    });
  }
  return data;
}

function say(ok, text) {
  status.textContent = text;
  status.dataset.result = ok ? "ok" : "error";
}

// -- the offer -----------------------------------------------------------------------

let shown = null; // the callback on screen
let reading = null;

function renderOffer(callback) {
  shown = callback;
  offerBox.replaceChildren();
  offerBox.hidden = !callback;
  if (!callback) return;
  const queue = queues.get(callback.queue) || "its queue";
  const waited = secondsSince(callback.place_at);
  const buttons = h(
    "div",
    { class: "callback-buttons" },
    h("button", { type: "button", "data-testid": "callback-accept", onclick: () => answer("accept") }, "Call back"),
    h("button", { type: "button", class: "secondary", "data-testid": "callback-decline", onclick: () => answer("decline") }, "Not now"),
  );
  offerBox.append(
    h("p", { class: "callback-title" }, "Callback for you"),
    h("p", { "data-testid": "callback-number", class: "callback-number" }, callback.number),
    h(
      "p",
      { class: "muted" },
      `${queue} · in line for ${duration(waited)}`,
      callback.attempts ? ` · attempt ${callback.attempts + 1} of ${callback.max_attempts}` : "",
    ),
    callback.note ? h("p", { class: "callback-note" }, callback.note) : null,
    buttons,
  );
  offerBox.dataset.callbackId = callback.id;
}

async function readOffer() {
  if (reading) return reading;
  reading = (async () => {
    try {
      const response = await fetch("/api/v1/callbacks/offer/", {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.status === 204) renderOffer(null);
      else if (response.ok) renderOffer(await response.json());
    } catch {
      // Offline: the banner says so; the next message or poll reads it again.
    } finally {
      reading = null;
    }
  })();
  return reading;
}

async function answer(choice) {
  const callback = shown;
  if (!callback) return;
  for (const button of offerBox.querySelectorAll("button")) button.disabled = true;
  const what = choice === "accept" ? `Calling ${callback.number} back` : "Callback passed on";
  say(true, `${what}…`);
  try {
    await post(`/api/v1/callbacks/${callback.id}/${choice}/`);
    say(true, choice === "accept" ? `${what}: your phone rings first.` : `${what}.`);
  } catch (error) {
    say(false, `${what}: ${error.message}`);
  }
  renderOffer(null);
  readOffer();
}

// -- scheduling ----------------------------------------------------------------------

async function loadQueues() {
  try {
    const page = await getJson("/api/v1/queues/?page_size=200");
    const select = form.querySelector("[name=queue]");
    select.replaceChildren();
    for (const queue of page.results || []) {
      if (!queue.is_active) continue;
      queues.set(queue.id, queue.name);
      select.append(h("option", { value: queue.id }, queue.name));
    }
    if (shown) renderOffer(shown);
  } catch (error) {
    say(false, `Queues: ${error.message}`);
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const fields = new FormData(form);
  const body = { queue: Number(fields.get("queue")), number: String(fields.get("number") || "").trim() };
  const at = String(fields.get("at") || "");
  if (at) body.at = new Date(at).toISOString(); // the agent's local time, sent as UTC
  const note = String(fields.get("note") || "").trim();
  if (note) body.note = note;
  try {
    const callback = await post("/api/v1/callbacks/", body);
    const when = at ? new Date(callback.next_attempt_at).toLocaleString() : "as soon as an agent is free";
    say(true, `Callback to ${callback.number} scheduled: ${when}.`);
    form.reset();
  } catch (error) {
    say(false, `Schedule: ${error.attr ? `${error.attr}: ` : ""}${error.message}`);
  }
});

document.addEventListener("console:message", (event) => {
  const type = event.detail && event.detail.type;
  if (type === "snapshot" || type === "agent.state") readOffer();
});
setInterval(readOffer, POLL_MS);
setInterval(() => shown && renderOffer(shown), 1000); // the wait grows
loadQueues();
readOffer();
