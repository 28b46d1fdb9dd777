// The Twilio side of the softphone: the Twilio Voice JavaScript SDK (vendored,
// vendor/twilio-voice/) registered as the agent's own Twilio Client identity with a
// short-lived token from POST /api/v1/telephony/twilio/token/. No DOM but the SDK's
// script tag. The same shape as softphone-phone.js's Phone, so softphone.js shows both
// the same way: "registration", "call" and "ended" events, calls with answer/hangup/
// mute/dtmf.
//
// The SDK is loaded only when the snapshot says the organization has a Twilio account
// set up for the softphone (softphone.twilio). Tokens are renewed before they expire;
// a refused token or registration is shown and retried with backoff. Nothing here ever
// throws into the console.

import { REG } from "./softphone-phone.js";

const RETRY_MS = [2_000, 5_000, 10_000, 30_000, 60_000];
const TOKEN_URL = "/api/v1/telephony/twilio/token/";

let nextKey = 1;

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** A fresh voice token for the logged-in agent (the session cookie says who). */
export async function fetchVoiceToken() {
  const response = await fetch(TOKEN_URL, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const why = body && (body.detail || body.message || body.code);
    throw new Error(why ? String(why) : `token refused (HTTP ${response.status})`);
  }
  return body;
}

function loadSdk(src) {
  if (window.Twilio?.Device) return Promise.resolve(window.Twilio);
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.async = true;
    script.onload = () => (window.Twilio?.Device ? resolve(window.Twilio) : reject(new Error("no Twilio.Device")));
    script.onerror = () => reject(new Error("the Twilio Voice SDK did not load"));
    document.head.append(script);
  });
}

/** One Twilio call in the browser (a Twilio.Call). */
export class TwilioPhoneCall {
  constructor(call, phone, { direction, number }) {
    this.key = `twilio-${nextKey++}`;
    this.call = call;
    this.phone = phone;
    this.direction = direction;
    const custom = call.customParameters instanceof Map ? call.customParameters : new Map();
    // Our TwiML names the parent call (the Call record's external_id) and, for a
    // click-to-call, the customer's number (telephony/twilio/twiml.py).
    this.linkedid = custom.get("cc_call_sid") || "";
    this.number = custom.get("cc_customer") || number || "";
    if (custom.get("cc_direction") === "outbound") this.direction = "outbound";
    this.startedAt = Date.now();
    this.state = direction === "inbound" ? "ringing" : "dialing";
    this.canHold = false; // Twilio holds a call on the server side, not in the SDK
    this.held = false;
    this.remoteHeld = false;
    this.muted = false;
    this.endCause = "";
    this.audio = document.createElement("span"); // the SDK plays the audio itself
    this.watch();
  }

  get live() {
    return this.state !== "ended";
  }

  watch() {
    const changed = () => this.phone.emit("call", this);
    this.call.on("ringing", () => {
      if (this.direction === "outbound" && this.state === "dialing") this.state = "ringing";
      changed();
    });
    this.call.on("accept", () => {
      this.state = "connected";
      changed();
    });
    this.call.on("mute", (muted) => {
      this.muted = Boolean(muted);
      changed();
    });
    this.call.on("reconnecting", () => {
      this.remoteHeld = true; // the media path is down for a moment: shown as held
      changed();
    });
    this.call.on("reconnected", () => {
      this.remoteHeld = false;
      changed();
    });
    const end = (cause) => () => {
      if (this.state === "ended") return;
      this.state = "ended";
      this.endCause = cause;
      this.phone.ended(this);
    };
    this.call.on("disconnect", end("Terminated"));
    this.call.on("cancel", end("Canceled"));
    this.call.on("reject", end("Rejected"));
    this.call.on("error", (error) => {
      this.phone.log("call", error);
      if (this.call.status?.() === "closed") end(error?.message || "Failed")();
    });
  }

  answer() {
    if (this.state !== "ringing" || this.direction !== "inbound") return;
    this.state = "answering";
    this.phone.emit("call", this);
    try {
      this.call.accept();
    } catch (error) {
      this.phone.log("answer", error);
    }
  }

  hangup() {
    try {
      if (this.state === "ringing" && this.call.direction === "INCOMING") this.call.reject();
      else this.call.disconnect();
    } catch (error) {
      this.phone.log("hangup", error);
    }
  }

  toggleHold() {
    // Not offered on Twilio calls (canHold false): the button is hidden.
  }

  toggleMute() {
    try {
      this.call.mute(!this.call.isMuted());
    } catch (error) {
      this.phone.log("mute", error);
    }
  }

  dtmf(tone) {
    if (this.state !== "connected" || !/^[0-9*#]$/.test(tone)) return;
    try {
      this.call.sendDigits(tone);
    } catch (error) {
      this.phone.log("dtmf", error);
    }
  }
}

export class TwilioPhone {
  /**
   * @param {(type: string, detail: any) => void} emit "registration" | "call" | "ended"
   * @param {{sdkUrl: string, devices: {input: string, output: string}, getToken?: () => Promise<{token: string, identity: string}>}} options
   */
  constructor(emit, { sdkUrl, devices, getToken = fetchVoiceToken }) {
    this.emit = emit;
    this.sdkUrl = sdkUrl;
    this.devices = devices;
    this.getToken = getToken;
    this.enabled = false;
    this.device = null;
    this.identity = "";
    this.calls = new Map();
    this.registration = { state: REG.OFF, message: "Not on Twilio." };
    this.retries = 0;
    this.retryTimer = null;
    this.generation = 0; // bumps on every (re)start: late answers of an old one are dropped
  }

  log(what, error) {
    console.warn(`twilio softphone: ${what}`, error);
  }

  setRegistration(state, message, extra = {}) {
    this.registration = { state, message, ...extra };
    this.emit("registration", this.registration);
  }

  /** Start or stop from the snapshot's softphone.twilio. */
  configure(enabled) {
    if (enabled && this.enabled) return;
    this.enabled = Boolean(enabled);
    if (!this.enabled) {
      this.stop();
      this.setRegistration(REG.OFF, "Not on Twilio.");
      return;
    }
    this.start();
  }

  async start() {
    this.stop();
    const generation = ++this.generation;
    this.setRegistration(REG.CONNECTING, "Getting a Twilio token…");
    try {
      const Twilio = await loadSdk(this.sdkUrl);
      const { token, identity } = await this.getToken();
      if (generation !== this.generation) return;
      this.identity = identity;
      const device = new Twilio.Device(token, {
        codecPreferences: ["opus", "pcmu"],
        closeProtection: true,
        logLevel: "warn",
        tokenRefreshMs: 30_000,
      });
      this.device = device;
      device.audio?.incoming(false); // the console rings (softphone.js), not the SDK too
      this.watch(device, generation);
      this.setRegistration(REG.CONNECTING, "Registering with Twilio…");
      await device.register();
    } catch (error) {
      if (generation === this.generation) this.failed(error);
    }
  }

  watch(device, generation) {
    const current = () => generation === this.generation;
    device.on("registering", () => current() && this.setRegistration(REG.CONNECTING, "Registering with Twilio…"));
    device.on("registered", () => {
      if (!current()) return;
      this.retries = 0;
      this.setRegistration(REG.REGISTERED, `Registered with Twilio as ${this.identity}.`);
      this.applyDevices();
    });
    device.on("unregistered", () => {
      if (current() && this.enabled) this.setRegistration(REG.DISCONNECTED, "Twilio: not registered, reconnecting…");
    });
    device.on("tokenWillExpire", async () => {
      try {
        const { token } = await this.getToken();
        if (current()) device.updateToken(token);
      } catch (error) {
        if (current()) this.failed(error);
      }
    });
    device.on("error", (error) => {
      if (!current()) return;
      this.log("device", error);
      // Access token errors (201xx, 312xx) need a new token: start over. Others (the
      // signalling socket) the SDK retries itself; the state says so meanwhile.
      const code = Number(error?.code) || 0;
      if ((code >= 20100 && code < 20200) || (code >= 31200 && code < 31300)) this.failed(error);
      else if (this.registration.state !== REG.REGISTERED) {
        this.setRegistration(REG.DISCONNECTED, `Twilio unreachable (${error?.message || code || "error"}): retrying…`);
      }
    });
    device.on("incoming", (twilioCall) => {
      if (!current()) return;
      const call = new TwilioPhoneCall(twilioCall, this, {
        direction: "inbound",
        number: twilioCall.parameters?.From || "",
      });
      this.calls.set(call.key, call);
      this.emit("call", call);
    });
  }

  failed(error) {
    const delay = RETRY_MS[Math.min(this.retries, RETRY_MS.length - 1)];
    this.retries += 1;
    const why = error?.message || String(error || "failed");
    this.setRegistration(REG.FAILED, `Twilio refused (${why}): retrying in ${Math.round(delay / 1000)} s.`, {
      retryInMs: delay,
      attempts: this.retries,
    });
    const generation = ++this.generation; // what the failed device says later is moot
    this.destroyDevice();
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.enabled && generation === this.generation) this.start();
    }, delay);
  }

  destroyDevice() {
    const device = this.device;
    this.device = null;
    if (!device) return;
    try {
      device.destroy();
    } catch (error) {
      this.log("destroy", error);
    }
  }

  stop() {
    this.generation += 1;
    clearTimeout(this.retryTimer);
    for (const call of this.calls.values()) call.hangup();
    this.destroyDevice();
  }

  ended(call) {
    this.emit("call", call);
    this.calls.delete(call.key);
    this.emit("ended", call);
  }

  /** A call out through the organization's TwiML app (its voice URL dials "To"). */
  async dial(target) {
    if (!this.device || this.registration.state !== REG.REGISTERED) throw new Error("Twilio is not registered");
    const twilioCall = await this.device.connect({ params: { To: target } });
    const call = new TwilioPhoneCall(twilioCall, this, { direction: "outbound", number: target });
    this.calls.set(call.key, call);
    this.emit("call", call);
    return call;
  }

  applyDevices() {
    const audio = this.device?.audio;
    if (!audio) return;
    if (this.devices.input) audio.setInputDevice(this.devices.input).catch((e) => this.log("microphone", e));
    if (this.devices.output && audio.isOutputSelectionSupported) {
      audio.speakerDevices.set(this.devices.output).catch((e) => this.log("speaker", e));
    }
  }
}
