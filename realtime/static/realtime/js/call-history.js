// Past calls read over REST (GET /api/v1/calls/, with the page's session): the console's
// recent calls, a case's calls (the console's cases, a call's pop), and the supervisors'
// call list. The API decides what
// a person sees (an agent their own calls, supervisors their organization's); each call
// with a recording gets the player (recording-player.js).

import { dateTime, duration, h, label } from "./dom.js";
import { RecordingPlayer, hasRecording } from "./recording-player.js";

// The statuses of a call that is over (contactcenter.transitions.TERMINAL_CALL_STATUSES).
export const ENDED = ["completed", "abandoned", "no_answer", "busy", "failed", "canceled", "callback"];

/** GET a JSON document of the API; throws with what the server answered. */
export async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) {
    throw Object.assign(new Error(`the server answered ${response.status}`), { status: response.status });
  }
  return response.json();
}

/** The query string of the ended calls, newest first (the list's own order). */
export function endedCallsQuery(params = {}) {
  const query = new URLSearchParams(params);
  for (const status of ENDED) query.append("status", status);
  return query.toString();
}

/** The customer's number of a call: the caller's, the callee's on an outbound call. */
export function customerNumber(call) {
  return (call.direction === "outbound" ? call.callee_number : call.caller_number) || "unknown number";
}

/** One past call as a list item: when, which way, who, how it ended, how long, and its
 * recording's player. `who` names the agent where the list shows several agents' calls. */
export function callItem(call, { testid = "history-call", who = "" } = {}) {
  const recording = (call.flags && call.flags.recording) || "";
  const name = call.direction === "outbound" ? "" : call.caller_name;
  const facts = [label(call.status), call.talk_seconds != null ? duration(call.talk_seconds) : "", who];
  return h(
    "li",
    { class: "history-call", dataset: { testid, callId: call.id, recording } },
    h("span", {}, dateTime(call.started_at), " · ", label(call.direction), " · "),
    h("strong", {}, customerNumber(call)),
    name ? ` ${name}` : "",
    h("span", { class: "muted" }, ` · ${facts.filter(Boolean).join(" · ")}`),
    hasRecording(recording) ? new RecordingPlayer(call.id, { text: "Play" }).el : null,
  );
}

/** Fill `list` with `calls` (or say there are none). A call already shown with the same
 * recording state keeps its item, so a recording playing in it plays on. */
export function showCalls(list, calls, options = {}) {
  const shown = new Map(
    [...list.querySelectorAll(":scope > li[data-call-id]")].map((li) => [li.dataset.callId, li]),
  );
  const items = calls.map((call) => {
    const kept = shown.get(String(call.id));
    const recording = (call.flags && call.flags.recording) || "";
    return kept && kept.dataset.recording === recording ? kept : callItem(call, options);
  });
  list.replaceChildren(...(items.length ? items : [h("li", { class: "empty" }, "None.")]));
}

/** Say in `list` that the calls could not be read. */
export function showFailure(list, error) {
  list.replaceChildren(h("li", { class: "field-error", role: "alert" }, `Calls: ${error.message}`));
}

/** A case's calls (the call it came from, and its contact's calls this person may see),
 * each with its recording's player, in a "Calls" box: read when opened, again on each
 * opening. The console's cases and a call's pop keep one box per case, so it stays open
 * (and a recording plays on) while they are drawn again. */
export function caseCallsDetails(c) {
  const list = h("ul", { class: "case-calls", dataset: { testid: "case-calls" } });
  const box = h("details", { class: "case-calls-box", dataset: { testid: "case-calls-box" } },
    h("summary", {}, "Calls"), list);
  box.addEventListener("toggle", () => {
    if (box.open) loadCaseCalls(c, list);
  });
  return box;
}

async function loadCaseCalls(c, list) {
  try {
    const calls = new Map();
    if (c.contact_id != null) {
      const query = new URLSearchParams({ contact: c.contact_id, page_size: 20 });
      for (const call of (await getJson(`/api/v1/calls/?${query}`)).results) calls.set(call.id, call);
    }
    if (c.source_call_id != null && !calls.has(c.source_call_id)) {
      try {
        const call = await getJson(`/api/v1/calls/${encodeURIComponent(c.source_call_id)}/`);
        calls.set(call.id, call);
      } catch (error) {
        if (error.status !== 404) throw error; // 404: not a call this person may see
      }
    }
    const newest = [...calls.values()].sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at));
    showCalls(list, newest, { testid: "case-call" });
  } catch (error) {
    showFailure(list, error);
  }
}
