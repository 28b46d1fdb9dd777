// One call on the agent console: the situation, the screen pop, the call controls and
// the wrap-up form. Built once per call and updated in place, so a message arriving
// while the agent types notes or a transfer target never loses what they typed.
//
// An ended call waiting for its wrap-up is compact: its pop folds away (one click opens
// it), and only the card being wrapped up shows the form; the others are a line with a
// "Wrap up" button (console.js picks which). A disposition saved during the call shows
// as "Saved: ..." with a Change button instead of the form.

import { callSituation, isLive } from "./agent-store.js";
import { dateTime, duration, h, label, secondsSince } from "./dom.js";
import { caseCallsDetails } from "./call-history.js";
import { RecordingPlayer, hasRecording } from "./recording-player.js";

const DIAL = /^\+?[0-9*#]{1,32}$/;

// Unsaved wrap-up notes, per agent and call, for the tab's life (sessionStorage): they
// outlive a reload or a rebuilt card. Storage may be refused (privacy modes): then the
// box alone holds them.
function draftKey(callId) {
  return `contactcenter.notes.${document.body.dataset.agentId || ""}.${callId}`;
}

function readDraft(callId) {
  try {
    return window.sessionStorage.getItem(draftKey(callId));
  } catch {
    return null;
  }
}

function keepDraft(callId, text) {
  try {
    if (text === null) window.sessionStorage.removeItem(draftKey(callId));
    else window.sessionStorage.setItem(draftKey(callId), text);
  } catch {
    // not kept across a reload; the box still holds it
  }
}

export class CallCard {
  /**
   * @param {object} entry the screen entry {call, leg, pop}
   * @param {{send: (type: string, data: object, what: string) => Promise<object>}} actions
   */
  constructor(entry, actions) {
    this.id = entry.call.id;
    this.actions = actions;
    this.notesDirty = false;
    this.status = h("span", { class: "call-state", dataset: { testid: "call-status" } });
    this.timer = h("span", { class: "timer", dataset: { role: "timer" } });
    this.number = h("span", { class: "number", dataset: { testid: "caller-number" } });
    this.name = h("span", { class: "name", dataset: { testid: "caller-name" } });
    this.where = h("span", { class: "muted" });
    this.pop = h("div", { class: "pop", dataset: { testid: "call-pop" } });
    this.caseCalls = new Map(); // case id -> its "Calls" box, kept across the pop's renders
    // Open while the call is live; folded once it ends (the agent may open it again).
    this.popBox = h("details", { class: "pop-box", open: true, dataset: { testid: "pop-box" } },
      h("summary", {}, "Caller details"), this.pop);
    this.answerHint = h("p", { class: "hint" }, "Answer on your phone.");
    this.controls = this.buildControls();
    this.playback = this.buildPlayback();
    this.wrapup = this.buildWrapup();
    this.saved = this.buildSaved();
    this.openWrapup = h("button", { type: "button", class: "open-wrapup", dataset: { testid: "open-wrapup" } }, "Wrap up");
    this.openWrapup.addEventListener("click", () => this.actions.pick(this.id, this.notes));
    // Typing in a form makes this the card being wrapped up: it stays open.
    this.wrapup.addEventListener("focusin", () => this.actions.pick(this.id));
    this.editing = false; // "Change" pressed on a saved disposition
    this.wasLive = null;
    this.el = h(
      "article",
      { class: "call-card", dataset: { testid: "call-card", callId: this.id } },
      h("header", {}, this.status, h("span", { class: "header-end" }, this.timer, this.openWrapup)),
      h("p", { class: "caller" }, this.number, " ", this.name, " ", this.where),
      this.answerHint,
      this.popBox,
      this.controls,
      this.playback,
      this.saved,
      this.wrapup,
    );
  }

  buildSaved() {
    this.savedName = h("strong", { dataset: { testid: "disposition-saved-name" } });
    const change = h("button", { type: "button", class: "link", dataset: { testid: "disposition-change" } }, "Change");
    change.addEventListener("click", () => {
      this.editing = true;
      this.render();
      this.disposition.focus();
    });
    return h("p", { class: "saved", dataset: { testid: "disposition-saved" } }, "Saved: ", this.savedName, " ", change);
  }

  buildControls() {
    this.hangup = h("button", { type: "button", class: "danger", dataset: { testid: "call-hangup" } }, "Hang up");
    this.hangup.addEventListener("click", () =>
      this.actions.send("call.hangup", { call_id: this.id }, "Hang up"),
    );
    this.target = h("input", {
      type: "text", inputmode: "tel", maxlength: "33", placeholder: "1002 or +1555…",
      "aria-label": "Transfer to", dataset: { testid: "transfer-target" },
    });
    const transfer = (kind) => {
      const target = this.target.value.trim();
      if (!DIAL.test(target)) {
        this.actions.fail(`Transfer: "${target}" is not a number or extension.`);
        return;
      }
      this.actions.send("call.transfer", { call_id: this.id, target, kind }, `${label(kind)} transfer`);
    };
    const blind = h("button", { type: "button", dataset: { testid: "transfer-blind" } }, "Blind transfer");
    const attended = h("button", { type: "button", dataset: { testid: "transfer-attended" } }, "Attended transfer");
    blind.addEventListener("click", () => transfer("blind"));
    attended.addEventListener("click", () => transfer("attended"));
    this.holdHint = h("p", { class: "hint", dataset: { testid: "hold-state" } });
    // A supervisor coaching the agent or on the call, where the organization tells agents.
    this.coachedHint = h("p", { class: "hint coached", dataset: { testid: "coached" } });
    // Pause the recording while the customer reads out a card number; the PBX's report
    // of the pause is what changes the state shown (call.recording).
    this.recordingState = h("span", { dataset: { testid: "recording-state" } });
    this.recordingToggle = h("button", { type: "button", dataset: { testid: "recording-toggle" } });
    this.recordingToggle.addEventListener("click", () => {
      const paused = this.call.recording !== "paused";
      const what = paused ? "Pause recording" : "Resume recording";
      this.actions.send("call.recording_pause", { call_id: this.id, paused }, what);
    });
    this.recordingRow = h("div", { class: "row recording", dataset: { testid: "recording-row" } },
      this.recordingState, " ", this.recordingToggle);
    // Where the call's queue (or organization) records on demand and nothing records it.
    this.recordingStart = h("button", { type: "button", dataset: { testid: "recording-start" } }, "Start recording");
    this.recordingStart.addEventListener("click", () =>
      this.actions.send("call.recording_start", { call_id: this.id }, "Start recording").catch(() => {}),
    );
    this.recordingOffer = h("div", { class: "row recording", dataset: { testid: "recording-offer" } },
      h("span", { class: "muted" }, "Not recorded"), " ", this.recordingStart);
    return h(
      "div",
      { class: "controls", dataset: { role: "controls" } },
      h("div", { class: "row" }, this.hangup),
      h("div", { class: "row" }, this.target, blind, attended),
      this.recordingRow,
      this.recordingOffer,
      this.holdHint,
      this.coachedHint,
    );
  }

  /** After the call: its recordings, fetched when asked for (signed links expire). */
  buildPlayback() {
    return new RecordingPlayer(this.id).el;
  }

  buildWrapup() {
    this.disposition = h("select", { "aria-label": "Disposition", dataset: { testid: "disposition-select" } });
    this.notes = h("textarea", {
      rows: "3", maxlength: "20000", placeholder: "Notes", "aria-label": "Notes",
      dataset: { testid: "disposition-notes" },
    });
    this.notes.addEventListener("input", () => {
      this.notesDirty = true;
      keepDraft(this.id, this.notes.value);
    });
    // A draft from before a reload (or from a card rebuilt since) is the agent's work.
    const draft = readDraft(this.id);
    if (draft !== null) {
      this.notes.value = draft;
      this.notesDirty = true;
    }
    this.wrapupError = h("p", { class: "field-error", role: "alert", dataset: { testid: "disposition-error" } });
    this.caseHint = h("p", { class: "hint" });
    this.disposition.addEventListener("change", () => this.showCaseHint());
    const save = h("button", { type: "submit", class: "primary", dataset: { testid: "disposition-save" } }, "Save");
    const form = h(
      "form",
      { class: "wrapup", dataset: { testid: "disposition-form" } },
      h("h3", {}, "Wrap-up"),
      this.disposition,
      this.caseHint,
      this.notes,
      this.wrapupError,
      save,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.saveWrapup(save);
    });
    return form;
  }

  async saveWrapup(button) {
    this.wrapupError.textContent = "";
    const chosen = this.disposition.value;
    if (!chosen) {
      this.wrapupError.textContent = "Pick a disposition.";
      return;
    }
    button.disabled = true;
    // Shown as saved once the call says so (its message may come before the ack, and the
    // agent may press Change in between: that is theirs, the ack must not undo it).
    this.editing = false;
    try {
      // Until what the server holds is what is in the box: the agent may type on while
      // the notes are on their way, and the disposition takes the card off the screen.
      let saved = this.call.notes || "";
      while (this.notesDirty && this.notes.value !== saved) {
        const notes = this.notes.value;
        await this.actions.send("call.set_notes", { call_id: this.id, notes }, "Notes");
        saved = notes;
        this.notesDirty = this.notes.value !== notes;
      }
      if (!this.notesDirty) keepDraft(this.id, null);
      const result = await this.actions.send(
        "call.set_disposition", { call_id: this.id, disposition_id: Number(chosen) }, "Disposition",
      );
      // The saved call at once (its message follows): an ended one leaves the screen.
      if (result && result.call) this.actions.saved(result.call);
    } catch (error) {
      this.editing = true; // the form, with why, rather than an older "Saved"
      this.wrapupError.textContent = error.message || "Not saved.";
      if (this.call) this.render();
    } finally {
      button.disabled = false;
    }
  }

  showCaseHint() {
    const picked = this.dispositions.find((d) => String(d.id) === this.disposition.value);
    this.caseHint.textContent = picked && picked.requires_case_creation ? "Opens a case." : "";
  }

  setDispositions(dispositions) {
    this.dispositions = dispositions;
    const current = this.disposition.value || String(this.call?.disposition_id ?? "");
    this.disposition.replaceChildren(
      h("option", { value: "" }, "Disposition…"),
      ...dispositions.map((d) =>
        h("option", { value: d.id, dataset: { code: d.code } }, d.name, d.requires_case_creation ? " (opens a case)" : ""),
      ),
    );
    this.disposition.value = current;
    this.showCaseHint();
  }

  update(entry, { queueName, dispositions, compact = false, expanded = true }) {
    const { call, leg, pop } = entry;
    this.call = call;
    this.leg = leg;
    this.compact = compact;
    this.expanded = expanded;
    const live = isLive(call);
    Object.assign(this.el.dataset, { status: call.status, leg, live: String(live) });
    this.el.classList.toggle("ringing", live && leg === "offered");
    this.status.textContent = callSituation(entry);
    const number = call.direction === "outbound" ? call.callee_number : call.caller_number;
    this.number.textContent = number || "unknown number";
    this.name.textContent = call.direction === "outbound" ? "" : call.caller_name;
    this.where.textContent = [label(call.direction), queueName ? `queue ${queueName}` : ""].filter(Boolean).join(" · ");
    this.updateTimer(call, leg, live);
    this.renderPop(pop);
    if (this.wasLive !== live) this.popBox.open = live; // only as the call ends (or first shows)
    this.wasLive = live;
    this.answerHint.hidden = !(live && leg === "offered");
    this.controls.hidden = !(live && leg === "connected");
    this.holdHint.textContent = call.status === "on_hold" ? "On hold: resume on your phone." : "Hold and resume on your phone.";
    const coached = live ? call.coached || "" : "";
    this.coachedHint.hidden = !coached;
    this.coachedHint.dataset.mode = coached;
    this.coachedHint.textContent = coached === "barge"
      ? "A supervisor is on this call: the caller hears them too."
      : "A supervisor is coaching you: only you hear them.";
    const recording = call.recording || "";
    const recordingNow = recording === "recording" || recording === "paused";
    this.recordingRow.hidden = !recordingNow;
    this.recordingOffer.hidden = recordingNow || !call.recording_on_demand;
    this.recordingState.textContent = recording === "paused" ? "Recording paused" : "Recording";
    this.recordingToggle.textContent = recording === "paused" ? "Resume recording" : "Pause recording";
    this.playback.hidden = live || !hasRecording(recording);
    if (this.dispositions !== dispositions) this.setDispositions(dispositions);
    if (!this.notesDirty) this.notes.value = call.notes || "";
    this.render();
  }

  /** Which of the wrap-up parts show, from the call and the card's mode. */
  render() {
    const { call, leg } = this;
    const live = isLive(call);
    this.el.classList.toggle("compact", this.compact);
    this.el.dataset.expanded = String(this.expanded);
    // An ended call stays on this screen only while it waits for this agent's wrap-up
    // (even one hung up before it was answered); a live one once the agent is on it.
    const wrapping = !live || leg === "connected" || leg === "done";
    const saved = live && call.disposition_id != null && !this.editing;
    const shown = wrapping && this.expanded;
    this.saved.hidden = !(shown && saved);
    this.wrapup.hidden = !(shown && !saved);
    this.openWrapup.hidden = !(this.compact && !this.expanded);
    if (saved) {
      const picked = (this.dispositions || []).find((d) => d.id === call.disposition_id);
      this.savedName.textContent = picked ? picked.name : `#${call.disposition_id}`;
    }
  }

  updateTimer(call, leg, live) {
    let since = "";
    if (live && call.status === "on_hold") since = call.held_since;
    else if (live && call.answered_at && leg !== "offered") since = call.answered_at;
    else if (live) since = call.queued_at || call.started_at;
    if (since) {
      this.timer.dataset.since = since; // dom.tickSince moves it every second
      this.timer.textContent = duration(secondsSince(since));
    } else {
      delete this.timer.dataset.since;
      this.timer.textContent = call.talk_seconds != null ? `talked ${duration(call.talk_seconds)}` : "";
    }
  }

  renderPop(pop) {
    const contacts = pop.contacts.length
      ? pop.contacts.map((c) =>
          h("li", { dataset: { testid: "pop-contact", contactId: c.id } },
            h("strong", {}, c.display_name), c.company ? ` · ${c.company}` : "", c.email ? ` · ${c.email}` : ""),
        )
      : [h("li", { class: "muted", dataset: { testid: "pop-unknown" } }, `No contact for ${pop.number || "this number"}.`)];
    const cases = pop.open_cases.map((c) => {
      if (!this.caseCalls.has(c.id)) this.caseCalls.set(c.id, caseCallsDetails(c));
      return h("li", { dataset: { testid: "pop-case", caseId: c.id } },
        h("strong", {}, c.reference), ` ${c.title} · ${label(c.status)} · ${c.priority}`,
        this.caseCalls.get(c.id));
    });
    const calls = pop.last_calls.map((c) =>
      h("li", { dataset: { testid: "pop-last-call", callId: c.id } },
        `${dateTime(c.started_at)} · ${label(c.direction)} · ${label(c.status)}`,
        c.talk_seconds != null ? ` · ${duration(c.talk_seconds)}` : ""),
    );
    this.pop.replaceChildren(
      h("ul", { class: "contacts" }, contacts),
      h("h4", {}, "Open cases"),
      cases.length ? h("ul", {}, cases) : h("p", { class: "muted" }, "None."),
      h("h4", {}, "Last calls"),
      calls.length ? h("ul", {}, calls) : h("p", { class: "muted" }, "None."),
    );
  }
}
