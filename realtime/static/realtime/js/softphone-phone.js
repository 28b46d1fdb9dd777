// The SIP side of the softphone: one JsSIP user agent registered with the agent's own
// account (from the snapshot's "softphone.sip"), and its calls. No DOM but media.
//
// Registration is kept up by itself: JsSIP reconnects the WebSocket with backoff and
// registers again when it is back; a refused registration (wrong password, 403, 5xx)
// is retried here with backoff too. Nothing here ever throws into the console.

import JsSIP from "../vendor/jssip/jssip.min.js";

const RETRY_MS = [2_000, 5_000, 10_000, 30_000, 60_000];

/** The registration states the panel shows (data-state of [data-testid=sip-status]). */
export const REG = {
  OFF: "off", // no SIP account on the profile
  CONNECTING: "connecting",
  REGISTERED: "registered",
  FAILED: "failed", // refused; retrying
  DISCONNECTED: "disconnected", // PBX unreachable; retrying
};

// The header on the INVITE of a supervisor's monitoring call (the bridge's Originate
// sets it: telephony/ami/commands.py).
export const MONITOR_HEADER = "X-CC-Monitor";

let nextKey = 1;

/** One SIP call in the browser. */
export class PhoneCall {
  constructor(session, phone, { direction, number, linkedid, monitor }) {
    this.key = nextKey++;
    this.session = session;
    this.phone = phone;
    this.direction = direction; // "inbound" | "outbound"
    this.number = number;
    this.linkedid = linkedid || "";
    this.monitor = monitor || ""; // a supervisor's monitoring call: its session id
    this.startedAt = Date.now();
    this.state = direction === "inbound" ? "ringing" : "dialing";
    this.held = false; // we put it on hold
    this.remoteHeld = false; // the other side did
    this.muted = false;
    this.keysSent = ""; // DTMF tones as the browser played them into the call
    this.endCause = "";
    this.audio = new Audio();
    this.audio.autoplay = true;
    this.audio.dataset.testid = "sip-remote-audio";
    this.watch();
  }

  watch() {
    const s = this.session;
    const changed = () => this.phone.emit("call", this);
    const attach = (pc) => {
      pc.addEventListener("track", (event) => {
        this.audio.srcObject = event.streams[0] || new MediaStream([event.track]);
        this.phone.applySpeaker(this.audio);
      });
    };
    this.watchTones = () => {
      // RFC 2833 tones go out through the audio sender's RTCDTMFSender, which reports
      // each tone as it plays it (an empty tone: the queue is done).
      const sender = s.connection?.getSenders?.().find((x) => x.track?.kind === "audio");
      if (!sender?.dtmf || sender.dtmf.ccWatched) return;
      sender.dtmf.ccWatched = true;
      sender.dtmf.addEventListener("tonechange", (event) => {
        if (!event.tone) return;
        this.keysSent = (this.keysSent + event.tone).slice(-32);
        changed();
      });
    };
    if (s.connection) attach(s.connection);
    s.on("peerconnection", (event) => attach(event.peerconnection));
    s.on("progress", () => {
      if (this.direction === "outbound") this.state = "ringing";
      changed();
    });
    s.on("accepted", () => {
      this.state = "connected";
      changed();
    });
    s.on("confirmed", () => {
      this.state = "connected";
      changed();
    });
    const holdChanged = () => {
      this.held = s.isOnHold().local;
      this.remoteHeld = s.isOnHold().remote;
      changed();
    };
    s.on("hold", holdChanged);
    s.on("unhold", holdChanged);
    s.on("muted", () => {
      this.muted = true;
      changed();
    });
    s.on("unmuted", () => {
      this.muted = false;
      changed();
    });
    const over = (event) => {
      this.state = "ended";
      this.endCause = (event && event.cause) || "";
      this.audio.srcObject = null;
      this.phone.ended(this);
    };
    s.on("ended", over);
    s.on("failed", over);
  }

  get live() {
    return this.state !== "ended";
  }

  answer() {
    if (this.state !== "ringing" || this.direction !== "inbound") return;
    this.session.answer(this.phone.callOptions());
    this.state = "answering";
    this.phone.emit("call", this);
  }

  hangup() {
    if (!this.live) return;
    try {
      this.session.terminate();
    } catch (error) {
      // Already terminated by the other side in the meantime: nothing to do.
      this.phone.log("hangup", error);
    }
  }

  toggleHold() {
    if (this.state !== "connected") return;
    if (this.session.isOnHold().local) this.session.unhold();
    else this.session.hold();
  }

  toggleMute() {
    if (this.state !== "connected") return;
    if (this.session.isMuted().audio) this.session.unmute({ audio: true });
    else this.session.mute({ audio: true });
  }

  dtmf(tone) {
    if (this.state !== "connected" || !/^[0-9*#A-D]$/.test(tone)) return;
    this.watchTones();
    this.session.sendDTMF(tone, { transportType: "RFC2833", duration: 120 });
  }

  /** The loudness of what the other side sends, 0..1 (WebRTC stats; null: no audio yet). */
  async inboundAudioLevel() {
    const pc = this.session.connection;
    if (!pc) return null;
    let level = null;
    (await pc.getStats()).forEach((report) => {
      if (report.type === "inbound-rtp" && report.kind === "audio") {
        level = Math.max(level ?? 0, report.audioLevel ?? 0, report.totalAudioEnergy ?? 0);
      }
    });
    return level;
  }
}

export class Phone {
  /** @param {(type: string, detail: any) => void} emit "registration" | "call" | "ended" */
  constructor(emit) {
    this.emit = emit;
    this.ua = null;
    this.account = null;
    this.calls = new Map(); // key -> PhoneCall
    this.registration = { state: REG.OFF, message: "No softphone account on your profile." };
    this.retries = 0;
    this.retryTimer = null;
    this.devices = { input: localStorage.getItem("cc.mic") || "", output: localStorage.getItem("cc.speaker") || "" };
  }

  log(what, error) {
    console.warn(`softphone: ${what}`, error);
  }

  /** Start (or restart, when the account changed) from the snapshot's softphone.sip. */
  configure(account) {
    const same = JSON.stringify(account) === JSON.stringify(this.account);
    if (same && this.ua) return;
    this.stop();
    this.account = account;
    if (!account) {
      this.setRegistration(REG.OFF, "No softphone account on your profile.");
      return;
    }
    try {
      this.ua = this.createUA(account);
      this.setRegistration(REG.CONNECTING, `Connecting to ${account.websocket_url}…`);
      this.ua.start();
    } catch (error) {
      // A bad URL or URI: JsSIP throws at construction. Shown, not thrown.
      this.log("start", error);
      this.ua = null;
      this.setRegistration(REG.FAILED, `Softphone setup refused: ${error.message || error}`);
    }
  }

  createUA(account) {
    const socket = new JsSIP.WebSocketInterface(account.websocket_url);
    const ua = new JsSIP.UA({
      sockets: [socket],
      uri: account.uri,
      authorization_user: account.username,
      password: account.password,
      display_name: account.display_name,
      register: true,
      register_expires: 120,
      session_timers: false,
      connection_recovery_min_interval: 2,
      connection_recovery_max_interval: 30,
      user_agent: "contactcenter-console (JsSIP)",
    });
    ua.on("connecting", () => this.setRegistration(REG.CONNECTING, "Connecting to the phone system…"));
    ua.on("connected", () => {
      if (this.registration.state !== REG.REGISTERED) this.setRegistration(REG.CONNECTING, "Registering…");
    });
    ua.on("disconnected", (event) => {
      const why = event && event.error ? " (unreachable)" : "";
      this.setRegistration(REG.DISCONNECTED, `Phone system disconnected${why}: reconnecting…`);
    });
    ua.on("registered", () => {
      this.retries = 0;
      this.setRegistration(REG.REGISTERED, `Registered as ${account.username}.`);
    });
    ua.on("unregistered", () => {
      if (this.ua === ua) this.setRegistration(REG.CONNECTING, "Not registered: registering again…");
    });
    ua.on("registrationFailed", (event) => this.registrationFailed(ua, event));
    ua.on("newRTCSession", (event) => this.newSession(event));
    return ua;
  }

  registrationFailed(ua, event) {
    const response = event && event.response;
    const cause = response ? `${response.status_code} ${response.reason_phrase}` : event?.cause || "failed";
    const delay = RETRY_MS[Math.min(this.retries, RETRY_MS.length - 1)];
    this.retries += 1;
    this.setRegistration(REG.FAILED, `Registration refused (${cause}): retrying in ${Math.round(delay / 1000)} s.`, {
      retryInMs: delay,
      attempts: this.retries,
    });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.ua !== ua) return;
      try {
        if (ua.isConnected()) {
          this.setRegistration(REG.CONNECTING, "Registering…");
          ua.register();
        }
        // Not connected: JsSIP registers again as soon as the WebSocket is back.
      } catch (error) {
        this.log("register", error);
      }
    }, delay);
  }

  setRegistration(state, message, extra = {}) {
    this.registration = { state, message, ...extra };
    this.emit("registration", this.registration);
  }

  stop() {
    clearTimeout(this.retryTimer);
    for (const call of this.calls.values()) call.hangup();
    if (this.ua) {
      const ua = this.ua;
      this.ua = null;
      try {
        ua.stop();
      } catch (error) {
        this.log("stop", error);
      }
    }
  }

  newSession(event) {
    const session = event.session;
    if (event.originator !== "remote") return; // ours: made in dial()
    const request = event.request;
    const busy = [...this.calls.values()].some((c) => c.live && c.state !== "ringing");
    const call = new PhoneCall(session, this, {
      direction: "inbound",
      number: session.remote_identity?.uri?.user || "",
      linkedid: request?.getHeader?.("X-CC-Linkedid") || "",
      monitor: request?.getHeader?.(MONITOR_HEADER) || "",
    });
    call.busy = busy;
    this.calls.set(call.key, call);
    // The monitoring call a supervisor asked for (Listen, Whisper, Barge): the PBX marks
    // its INVITE (docs/supervisor.md) and the card says so, but it rings and waits for
    // Answer like any call. A header is no proof of who sent the INVITE: answering by
    // itself would open the supervisor's microphone to anyone who can put it there.
    this.emit("call", call);
  }

  ended(call) {
    this.emit("call", call);
    this.calls.delete(call.key);
    this.emit("ended", call);
  }

  callOptions() {
    const audio = this.devices.input ? { deviceId: { exact: this.devices.input } } : true;
    return {
      mediaConstraints: { audio, video: false },
      rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: false },
      pcConfig: { iceServers: [] },
    };
  }

  /** Click-to-call from the browser: digits, * and #, an optional +. */
  dial(number) {
    const target = String(number || "").replace(/[\s().-]/g, "");
    if (!/^\+?[0-9*#]{1,32}$/.test(target)) throw new Error("digits, * and # only, with an optional leading +");
    if (!this.ua || this.registration.state !== REG.REGISTERED) throw new Error("the softphone is not registered");
    const session = this.ua.call(`sip:${target}@${this.account.domain}`, this.callOptions());
    const call = new PhoneCall(session, this, { direction: "outbound", number: target });
    this.calls.set(call.key, call);
    this.emit("call", call);
    return call;
  }

  setDevices({ input, output }) {
    if (input !== undefined) {
      this.devices.input = input;
      localStorage.setItem("cc.mic", input);
    }
    if (output !== undefined) {
      this.devices.output = output;
      localStorage.setItem("cc.speaker", output);
      for (const call of this.calls.values()) this.applySpeaker(call.audio);
    }
  }

  applySpeaker(element) {
    if (!this.devices.output || typeof element.setSinkId !== "function") return;
    element.setSinkId(this.devices.output).catch((error) => this.log("speaker", error));
  }
}
