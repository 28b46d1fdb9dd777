// The console's voicemails (docs/recordings.md, "Voicemail"): the messages callers left
// in the agent's queues, live. The list is read over REST with the page's session
// (GET /api/v1/voicemails/: new ones, and the agent's own claims) on load and on every
// snapshot (a reconnect), then kept by the `voicemail.updated` messages console.js
// re-dispatches as "console:message". "Take it" claims one (POST {id}/claim/: one agent
// wins, the others are told it is taken); the agent who has it plays it (a signed,
// short-lived link fetched when asked) and turns it into a callback or a case, or closes it.

import { getJson } from "./call-history.js";
import { duration, h, secondsSince } from "./dom.js";

const list = document.querySelector("[data-testid=voicemail-list]");
const count = document.querySelector("[data-role=voicemail-count]");
const status = document.querySelector("[data-testid=voicemail-status]");
const shown = new Map(); // id -> voicemail (REST fields, or the message's view)
let me = null; // this console's agent id

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

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
    throw new Error(error.detail || `the server answered ${response.status}`);
  }
  return data;
}

function say(ok, text) {
  status.textContent = text;
  status.dataset.result = ok ? "ok" : "error";
}

/** Whether this console lists it: waiting for someone, or this agent's to deal with. */
function wanted(vm) {
  return vm.status === "new" || (vm.status === "claimed" && vm.claimed_by === me);
}

function keep(vm) {
  if (wanted(vm)) shown.set(vm.id, vm);
  else shown.delete(vm.id);
}

async function act(vm, path, done, body = null) {
  try {
    keep(await post(`/api/v1/voicemails/${vm.id}/${path}/`, body));
    say(true, done);
  } catch (error) {
    say(false, error.message);
    await load();
  }
  render();
}

async function play(vm, box) {
  try {
    const fresh = await getJson(`/api/v1/voicemails/${vm.id}/`);
    if (!fresh.media_url) {
      box.replaceChildren(fresh.media === "failed" ? "No audio came for this message." : "The audio is not stored yet.");
      return;
    }
    const audio = h("audio", { controls: true, preload: "metadata", src: fresh.media_url, dataset: { testid: "voicemail-audio" } });
    box.replaceChildren(audio);
    audio.play().catch(() => {}); // a browser may want a second click
  } catch (error) {
    box.replaceChildren(`Could not play it: ${error.message}`);
  }
}

function item(vm) {
  const mine = vm.status === "claimed" && vm.claimed_by === me;
  const box = h("div", { class: "player" });
  const buttons = mine
    ? [
        h("button", { type: "button", dataset: { testid: "voicemail-play" }, onclick: () => play(vm, box) }, "Play"),
        h("button", { type: "button", dataset: { testid: "voicemail-callback" }, onclick: () => act(vm, "callback", "A callback is in the queue's line.") }, "Call back"),
        h("button", { type: "button", dataset: { testid: "voicemail-case" }, onclick: () => act(vm, "case", "A case was opened.", {}) }, "Open a case"),
        h("button", { type: "button", class: "link", dataset: { testid: "voicemail-close" }, onclick: () => act(vm, "close", "Closed.") }, "Close"),
      ]
    : [h("button", { type: "button", dataset: { testid: "voicemail-claim" }, onclick: () => act(vm, "claim", "It is yours.") }, "Take it")];
  const length = vm.duration_seconds == null ? "" : ` · ${duration(vm.duration_seconds)}`;
  return h(
    "li",
    { dataset: { testid: "voicemail", voicemailId: vm.id, status: vm.status } },
    h("strong", {}, vm.caller_number || "unknown caller"),
    ` ${vm.queue_name || ""} · ${duration(secondsSince(vm.left_at))} ago${length}`,
    vm.transcription ? h("p", { class: "transcription" }, vm.transcription) : null,
    h("div", { class: "actions" }, ...buttons),
    box,
  );
}

function render() {
  const items = [...shown.values()].sort((a, b) => a.left_at.localeCompare(b.left_at));
  list.replaceChildren(...(items.length ? items.map(item) : [h("li", { class: "empty" }, "None waiting.")]));
  const waiting = items.filter((vm) => vm.status === "new").length;
  count.textContent = waiting ? String(waiting) : "";
}

async function load() {
  try {
    const [fresh, claimed] = await Promise.all([
      getJson("/api/v1/voicemails/?status=new"),
      getJson("/api/v1/voicemails/?status=claimed"),
    ]);
    shown.clear();
    for (const vm of [...fresh.results, ...claimed.results]) keep(vm);
  } catch (error) {
    say(false, `Voicemails could not be read: ${error.message}`);
  }
  render();
}

document.addEventListener("console:message", (event) => {
  const message = event.detail;
  if (message.type === "snapshot") {
    me = message.data.agent ? message.data.agent.id : null;
    load();
  } else if (message.type === "voicemail.updated") {
    keep(message.data.voicemail);
    render();
  }
});
