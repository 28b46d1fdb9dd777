// Small DOM and formatting helpers. Text goes in with textContent, never as HTML:
// caller names, notes and case titles come from outside.

/** h("li", {class: "x", dataset: {testid: "y"}}, "text", child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** 75 -> "1:15", 3700 -> "1:01:40"; null -> "–" */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  const s = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

// How far the server's clock is ahead of this machine's (ms), from the messages' "ts": a
// state's or a call's time counts from the server's stamps, so a browser whose clock is
// off would show every timer off by as much (or stuck at 0:00, when it runs behind).
let serverAhead = 0;

/** Take the server's clock from a message's send time ("ts", ISO UTC). */
export function syncClock(ts) {
  const sent = Date.parse(ts || "");
  if (!Number.isNaN(sent)) serverAhead = sent - Date.now();
}

/** Now on the server's clock (ms since the epoch). */
export function serverNow() {
  return Date.now() + serverAhead;
}

/** Seconds from an ISO time (the server's "Z" times) to now. */
export function secondsSince(iso) {
  if (!iso) return null;
  return Math.max(0, (serverNow() - Date.parse(iso)) / 1000);
}

export function clock(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function dateTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short" });
}

export function percent(value) {
  return value === null || value === undefined ? "–" : `${value.toFixed(1)}%`;
}

export function label(value) {
  return String(value || "").replaceAll("_", " ");
}

/** Every second, refresh the elements that show "time since" (data-since, ISO). */
export function tickSince(root = document) {
  const tick = () => {
    for (const el of root.querySelectorAll("[data-since]")) {
      el.textContent = el.dataset.since ? duration(secondsSince(el.dataset.since)) : "";
    }
  };
  tick();
  return setInterval(tick, 1000);
}
