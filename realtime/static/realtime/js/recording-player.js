// A call's recordings, played in the page: one player for the call's card, the console's
// recent calls and a case's calls, and the supervisors' call list (docs/recordings.md).
// The recordings are fetched when asked for (GET /api/v1/calls/{id}/recordings/,
// authorized as the call itself): their links are signed and short-lived, so a list
// does not fetch them ahead, and asking again gives fresh ones.

import { h } from "./dom.js";

// What a recording without a playable file says (its status, docs/recordings.md).
const RECORDING_TEXT = {
  recording: "Still recording.",
  paused: "Still recording (paused).",
  ended: "The recording's file has not reached the store yet.",
  failed: "The recording's file never arrived.",
  purged: "The recording was removed.",
};

/** Whether a call's recording state (the message's `recording`, the REST call's
 * `flags.recording`) offers something to play or say: "" is none, purged is gone. */
export function hasRecording(state) {
  return Boolean(state) && state !== "purged";
}

// One recording plays at a time: starting one pauses any other on the page.
document.addEventListener(
  "play",
  (event) => {
    for (const audio of document.querySelectorAll("audio")) {
      if (audio !== event.target) audio.pause();
    }
  },
  true,
);

export class RecordingPlayer {
  /** @param {number} callId */
  constructor(callId, { text = "Play recording" } = {}) {
    this.callId = callId;
    this.button = h("button", { type: "button", dataset: { testid: "recording-play" } }, text);
    this.box = h("div", { class: "player", dataset: { testid: "recording-player" } });
    this.button.addEventListener("click", () => this.load());
    this.el = h("div", { class: "playback", dataset: { testid: "recording-playback" } }, this.button, this.box);
  }

  async load() {
    this.box.replaceChildren(h("span", { class: "muted" }, "Loading…"));
    try {
      const response = await fetch(`/api/v1/calls/${encodeURIComponent(this.callId)}/recordings/`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      const rows = await response.json();
      const items = rows.map((r) =>
        r.media_url
          ? h("audio", { controls: true, preload: "metadata", src: r.media_url, dataset: { testid: "recording-audio" } })
          : h("p", { class: "muted", dataset: { testid: "recording-unplayable" } }, RECORDING_TEXT[r.status] || r.status),
      );
      this.box.replaceChildren(...(items.length ? items : [h("p", { class: "muted" }, "No recording.")]));
    } catch (error) {
      this.box.replaceChildren(h("p", { class: "field-error", role: "alert" }, `Recording: ${error.message}`));
    }
  }
}
