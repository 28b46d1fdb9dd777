// The browser softphone in the agent console (docs/softphone.md).
//
// Its own module: console.js only re-broadcasts each /ws/agent/ message as a
// "console:message" DOM event. From the snapshot's "softphone" it registers the agent's
// SIP account (softphone-phone.js) and, for an organization on Twilio, the Twilio Voice
// SDK as the agent's Client identity (softphone-twilio.js); both phones' calls show the
// same way. From the call messages it knows the console's calls,
// so a SIP call shows inside its Call's card (softphone-match.js) rather than as a
// second card. If anything here fails, the rest of the console goes on.

import { h, label } from "./dom.js";
import { REG, Phone } from "./softphone-phone.js";
import { matchCall } from "./softphone-match.js";
import { TwilioPhone } from "./softphone-twilio.js";

const root = document.querySelector("[data-role=softphone]");
const entries = new Map(); // Call id -> screen entry {call, leg, pop}, as console.js has them
const views = new Map(); // PhoneCall key -> {call, el, callId}
const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

// -- the registration badge: under the agent's state --------------------------------------

const badge = h("div", { class: "sip-status", role: "status", dataset: { testid: "sip-status", state: REG.OFF } },
  h("span", { class: "dot", "aria-hidden": "true" }),
  h("span", { dataset: { role: "sip-status-text" } }, "Softphone: starting…"));
// Twilio's own badge, on screen only for an organization on Twilio.
const twilioBadge = h("div", { class: "sip-status twilio", role: "status", hidden: true, dataset: { testid: "twilio-status", state: REG.OFF } },
  h("span", { class: "dot", "aria-hidden": "true" }),
  h("span", { dataset: { role: "sip-status-text" } }, "Twilio: off"));
// In the agent panel, under the state (console.html); the body only on another page.
(document.querySelector("[data-role=phone-status]") || document.body).append(badge, twilioBadge);

function showRegistration(registration, which = badge, name = "Softphone") {
  which.dataset.state = registration.state;
  which.dataset.attempts = registration.attempts ?? 0;
  which.querySelector("[data-role=sip-status-text]").textContent = `${name}: ${registration.message}`;
  dialButton.disabled = !dialer();
}

// -- the panel: devices, dialer and keypad -------------------------------------------------

const micSelect = h("select", { "aria-label": "Microphone", dataset: { testid: "sip-mic" } });
const speakerSelect = h("select", { "aria-label": "Speaker", dataset: { testid: "sip-speaker" } });
const dialInput = h("input", {
  type: "text", inputmode: "tel", maxlength: "33", placeholder: "+15551234567 or 1002",
  "aria-label": "Number to call from the softphone", dataset: { testid: "sip-dial-number" },
});
const dialButton = h("button", { type: "submit", class: "primary", disabled: true, dataset: { testid: "sip-dial-call" } }, "Call");
const note = h("p", { class: "hint", role: "alert", dataset: { testid: "sip-note" } });
const keypad = h("div", { class: "sip-keypad", role: "group", "aria-label": "Keypad", dataset: { testid: "sip-keypad" } },
  KEYS.map((key) => h("button", { type: "button", dataset: { key, testid: `sip-key-${key}` } }, key)));
const dialForm = h("form", { class: "sip-dial", dataset: { testid: "sip-dial-form" } }, dialInput, dialButton);
const standalone = h("div", { class: "sip-calls", dataset: { testid: "sip-calls" } });

if (root) {
  root.append(
    h("h3", {}, "Softphone"),
    dialForm,
    keypad,
    note,
    h("div", { class: "sip-devices" },
      h("label", {}, "Microphone ", micSelect),
      h("label", {}, "Speaker ", speakerSelect)),
  );
}
// Calls that match no Call record (yet) get a card of their own above the call list.
document.querySelector("[data-testid=call-list]")?.before(standalone);

// -- ringtone: two tones, 2 s on, 4 s off, made with WebAudio (no file to fetch) -----------

const ringtone = {
  ctx: null,
  timer: null,
  start() {
    if (this.timer) return;
    try {
      this.ctx = this.ctx || new AudioContext();
      if (phone.devices.output && this.ctx.setSinkId) this.ctx.setSinkId(phone.devices.output).catch(() => {});
      this.ctx.resume().catch(() => {});
      const ring = () => {
        const gain = this.ctx.createGain();
        gain.gain.value = 0.15;
        gain.connect(this.ctx.destination);
        for (const frequency of [440, 480]) {
          const tone = this.ctx.createOscillator();
          tone.frequency.value = frequency;
          tone.connect(gain);
          tone.start();
          tone.stop(this.ctx.currentTime + 2);
        }
      };
      ring();
      this.timer = setInterval(ring, 6000);
      document.body.dataset.ringtone = "on";
    } catch (error) {
      phone.log("ringtone", error); // no audio output: the card still pulses
    }
  },
  stop() {
    clearInterval(this.timer);
    this.timer = null;
    delete document.body.dataset.ringtone;
  },
};

// -- one SIP call, shown in its Call's card or on its own ----------------------------------

function button(text, testid, onClick, cls = "") {
  return h("button", { type: "button", class: cls, dataset: { testid }, onclick: onClick }, text);
}

function buildView(call) {
  const el = h("div", { class: "sip-call", dataset: { testid: "sip-call", key: call.key } },
    h("p", { class: "sip-line" },
      h("strong", { dataset: { role: "sip-state", testid: "sip-call-state" } }),
      " ",
      h("span", { dataset: { role: "sip-number", testid: "sip-call-number" } }),
      " ",
      h("span", { class: "muted", dataset: { role: "sip-keys", testid: "sip-keys-sent" } })),
    h("div", { class: "row" },
      button("Answer", "sip-answer", () => call.answer(), "primary"),
      button("Hang up", "sip-hangup", () => call.hangup(), "danger"),
      button("Hold", "sip-hold", () => call.toggleHold()),
      button("Mute", "sip-mute", () => call.toggleMute())),
    call.audio);
  return { call, el, callId: null, card: h("article", { class: "call-card sip-only", dataset: { testid: "sip-call-card" } }) };
}

function stateText(call) {
  if (call.state === "ringing") return call.direction === "inbound" ? "Incoming call" : "Ringing";
  if (call.state === "connected") {
    if (call.held) return "On hold";
    if (call.remoteHeld) return "Held by the other side";
    if (call.monitor) return call.muted ? "Monitoring (muted)" : "Monitoring";
    return call.muted ? "Connected (muted)" : "Connected";
  }
  return label(call.state);
}

function renderView(view) {
  const { call, el } = view;
  Object.assign(el.dataset, {
    state: call.state, held: String(call.held), remoteHeld: String(call.remoteHeld), muted: String(call.muted),
    monitor: call.monitor || "",
  });
  el.querySelector("[data-role=sip-state]").textContent = stateText(call);
  el.querySelector("[data-role=sip-number]").textContent = `${call.direction === "inbound" ? "from" : "to"} ${call.number || "unknown"}`;
  // The keys the agent played into the call (an IVR's menu, a PIN), as the phone sent them.
  el.querySelector("[data-role=sip-keys]").textContent = call.keysSent ? `keys ${call.keysSent}` : "";
  el.dataset.keysSent = call.keysSent || "";
  el.querySelector("[data-testid=sip-answer]").hidden = !(call.state === "ringing" && call.direction === "inbound");
  el.querySelector("[data-testid=sip-hold]").hidden = call.state !== "connected" || call.canHold === false;
  el.querySelector("[data-testid=sip-hold]").textContent = call.held ? "Resume" : "Hold";
  el.querySelector("[data-testid=sip-mute]").hidden = call.state !== "connected";
  el.querySelector("[data-testid=sip-mute]").textContent = call.muted ? "Unmute" : "Mute";
  place(view);
}

/** Into its Call's card when one matches, else its own card (one card per call). */
function place(view) {
  const taken = new Set([...views.values()].filter((v) => v !== view && v.callId).map((v) => v.callId));
  // A supervisor's monitoring call is not one of their own calls: a card of its own.
  if (!view.call.monitor && (view.callId == null || !entries.has(view.callId))) {
    view.callId = matchCall(view.call, entries.values(), taken);
  }
  const card = view.callId != null && document.querySelector(`[data-testid=call-card][data-call-id="${view.callId}"]`);
  view.el.dataset.callId = view.callId ?? "";
  if (card) {
    if (view.el.parentElement !== card) card.append(view.el);
    card.dataset.sip = view.call.state;
    view.card.remove();
  } else {
    if (view.el.parentElement !== view.card) view.card.append(view.el);
    if (!view.card.isConnected) standalone.append(view.card);
  }
}

function placeAll() {
  for (const view of views.values()) place(view);
}

function onCall(call) {
  let view = views.get(call.key);
  if (!view) {
    view = buildView(call);
    views.set(call.key, view);
  }
  renderView(view);
  const ringing = [...views.values()].some((v) => v.call.direction === "inbound" && v.call.state === "ringing");
  if (ringing) ringtone.start();
  else ringtone.stop();
  if (call.state === "connected") refreshDevices();
}

function onEnded(call) {
  const view = views.get(call.key);
  if (!view) return;
  views.delete(call.key);
  const card = view.el.closest("[data-testid=call-card]");
  if (card) delete card.dataset.sip;
  view.el.remove();
  view.card.remove();
  if (call.endCause && call.endCause !== "Terminated" && call.endCause !== "Canceled") {
    note.textContent = `Call ${call.number}: ${call.endCause}.`;
  }
}

function listener(onRegistration) {
  return (type, detail) => {
    try {
      if (type === "registration") onRegistration(detail);
      else if (type === "call") onCall(detail);
      else if (type === "ended") onEnded(detail);
    } catch (error) {
      console.error("softphone: rendering", error);
    }
  };
}

const phone = new Phone(listener((registration) => showRegistration(registration)));
const twilio = new TwilioPhone(
  listener((registration) => {
    twilioBadge.hidden = registration.state === REG.OFF;
    showRegistration(registration, twilioBadge, "Twilio");
  }),
  { sdkUrl: root?.dataset.twilioSdk || "", devices: phone.devices },
);
window.ccSoftphone = phone; // for the browser test and for support, from the devtools
window.ccTwilioPhone = twilio;

// -- controls --------------------------------------------------------------------------------

function activeCall() {
  return [...phone.calls.values(), ...twilio.calls.values()].find((c) => c.state === "connected") || null;
}

/** The phone that places calls: the SIP account when registered, else Twilio. */
function dialer() {
  if (phone.registration.state === REG.REGISTERED) return phone;
  if (twilio.registration.state === REG.REGISTERED) return twilio;
  return null;
}

async function dial(number) {
  note.textContent = "";
  const target = String(number || "").replace(/[\s().-]/g, "");
  try {
    if (!/^\+?[0-9*#]{1,32}$/.test(target)) throw new Error("digits, * and # only, with an optional leading +");
    const chosen = dialer();
    if (!chosen) throw new Error("the softphone is not registered");
    await chosen.dial(target);
  } catch (error) {
    note.textContent = `Call: ${error.message}.`;
  }
}

dialForm.addEventListener("submit", (event) => {
  event.preventDefault();
  dial(dialInput.value);
});

keypad.addEventListener("click", (event) => {
  const key = event.target.closest("[data-key]")?.dataset.key;
  if (!key) return;
  const call = activeCall();
  if (call) call.dtmf(key);
  else dialInput.value += key;
});

// Click-to-call from anything on the page that carries data-dial (a contact's phone, a case).
document.addEventListener("click", (event) => {
  const target = event.target.closest("[data-dial]");
  if (!target) return;
  event.preventDefault();
  dial(target.dataset.dial);
});

async function refreshDevices() {
  if (!navigator.mediaDevices?.enumerateDevices) return;
  try {
    const devices = await navigator.mediaDevices.enumerateDevices();
    const fill = (select, kind, chosen) => {
      const options = devices.filter((d) => d.kind === kind);
      select.replaceChildren(h("option", { value: "" }, "Default"),
        ...options.map((d, i) => h("option", { value: d.deviceId }, d.label || `${kind} ${i + 1}`)));
      select.value = options.some((d) => d.deviceId === chosen) ? chosen : "";
    };
    fill(micSelect, "audioinput", phone.devices.input);
    fill(speakerSelect, "audiooutput", phone.devices.output);
    speakerSelect.disabled = !("setSinkId" in HTMLMediaElement.prototype);
  } catch (error) {
    phone.log("devices", error);
  }
}

micSelect.addEventListener("change", () => {
  phone.setDevices({ input: micSelect.value });
  twilio.applyDevices();
});
speakerSelect.addEventListener("change", () => {
  phone.setDevices({ output: speakerSelect.value });
  twilio.applyDevices();
});
navigator.mediaDevices?.addEventListener?.("devicechange", refreshDevices);
refreshDevices();

// -- the console's messages ---------------------------------------------------------------------

function onConsoleMessage(message) {
  try {
    if (message.type === "snapshot") {
      entries.clear();
      for (const entry of message.data.calls) entries.set(entry.call.id, entry);
      phone.configure(message.data.softphone ? message.data.softphone.sip : null);
      twilio.configure(Boolean(message.data.softphone?.twilio));
    } else if (message.type.startsWith("call.") && message.data.call) {
      entries.set(message.data.call.id, message.data);
    } else if (message.type === "call.removed") {
      entries.delete(message.data.call_id);
    } else {
      return;
    }
    // console.js has rendered the cards for this message before dispatching it.
    placeAll();
  } catch (error) {
    console.error("softphone: message", error);
  }
}

// What came before this module ran (the first snapshot, often), then the rest as it comes.
for (const message of window.ccConsoleEarlyMessages?.() ?? []) onConsoleMessage(message);
document.addEventListener("console:message", (event) => onConsoleMessage(event.detail));

window.addEventListener("beforeunload", () => {
  phone.stop();
  twilio.stop();
});
showRegistration(phone.registration);
