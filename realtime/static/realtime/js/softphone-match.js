// Which Call record (from the bridge, over /ws/agent/) a SIP call in the browser is.
// Pure data, no DOM: the softphone asks it whenever calls or sessions change.
//
// 1. The dialplan adds X-CC-Linkedid to every INVITE that rings an agent
//    (deploy/asterisk/extensions.conf); it equals the Call's external_id.
// 2. Without it (an outbound call from the browser, another PBX): a live call with the
//    same customer number, not already the card of another SIP call: one ringing this
//    agent (leg "offered", however long the caller queued) first, else the one whose
//    start is closest to the SIP call's, within WINDOW_MS.

export const WINDOW_MS = 120_000;

/** Digits only; "+1 (555) 010-2000" -> "15550102000". */
export function digits(number) {
  return String(number || "").replace(/\D/g, "");
}

/** Same number, allowing a missing country or trunk prefix on one side (7+ digits). */
export function sameNumber(a, b) {
  const x = digits(a);
  const y = digits(b);
  if (!x || !y) return false;
  if (x === y) return true;
  const [short, long] = x.length < y.length ? [x, y] : [y, x];
  return short.length >= 7 && long.endsWith(short);
}

function isLive(call) {
  return !call.ended_at && call.status !== "completed" && call.status !== "abandoned";
}

/**
 * @param {{linkedid: string, number: string, direction: "inbound" | "outbound", startedAt: number}} sip
 * @param {Iterable<{call: object, leg: string}>} entries the console's calls
 * @param {Set<number>} taken call ids already matched to another SIP call
 * @returns {number | null} the Call's id
 */
export function matchCall(sip, entries, taken = new Set()) {
  const list = [...entries];
  if (sip.linkedid) {
    const exact = list.find((entry) => entry.call.external_id === sip.linkedid);
    if (exact) return exact.call.id;
  }
  let best = null;
  let bestGap = Infinity;
  for (const { call, leg } of list) {
    if (taken.has(call.id) || !isLive(call)) continue;
    // The customer's number: the caller on a call that rang us, the callee on ours.
    const customer = sip.direction === "outbound" ? call.callee_number : call.caller_number;
    if (!sameNumber(customer, sip.number)) continue;
    const gap = leg === "offered" ? 0 : Math.abs(Date.parse(call.started_at) - sip.startedAt);
    if (gap <= WINDOW_MS && gap < bestGap) {
      best = call.id;
      bestGap = gap;
    }
  }
  return best;
}
