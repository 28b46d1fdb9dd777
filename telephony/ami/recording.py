"""MixMonitor as the PBX reports it: the Translator's rules for recordings.

``MixMonitorStart`` / ``MixMonitorMute`` / ``MixMonitorStop`` exist from Asterisk 16.17
and 18.3 on; ``MIXMONITOR_FILENAME`` (a VarSet right after MixMonitor starts) on every
version, so a recording is known from either. A recorded call that just hangs up gives
no ``MixMonitorStop``: the recording ends with the call (contactcenter/services/recordings.py).
"""

from __future__ import annotations

import re
from datetime import datetime

from contactcenter import facts as te
from telephony.ami.dialing import DialRules
from telephony.ami.fields import Fields, text
from telephony.ami.tracker import Leg, Tracker

FILENAME_VARIABLE = "MIXMONITOR_FILENAME"
EVENTS = frozenset({"MixMonitorStart", "MixMonitorMute", "MixMonitorStop"})
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def recording_filename(organization_id: int, leg: Leg) -> str:
    """The file MixMonitor writes (relative to the PBX's monitor directory)."""
    return f"cc-{int(organization_id)}-{_UNSAFE.sub('-', leg.uniqueid)}.wav"


def is_recording_variable(msg: Fields) -> bool:
    return text(msg, "Variable").upper() == FILENAME_VARIABLE


def customer_leg(state: Tracker, call_key: str) -> Leg | None:
    """The leg a call is recorded on: the customer's (its first leg when that is not an
    agent's phone, else its first leg that is not), which stays through transfers."""
    track = state.calls.get(state.resolve(call_key))
    if track is None:
        return None
    first = state.legs.get(track.first_leg)
    if first is not None and not first.is_agent:
        return first
    legs = (state.legs.get(u) for u in sorted(track.legs))
    return next((leg for leg in legs if leg is not None and not leg.is_agent), None)


class RecordingRules(DialRules):
    def _recording_agent(self, call_key: str) -> str:
        """The agent whose phone is up on the call when recording starts, if any."""
        track = self.state.calls.get(call_key)
        for uniqueid in sorted(track.legs) if track is not None else ():
            leg = self.state.legs.get(uniqueid)
            if leg is not None and leg.is_agent and leg.up:
                return leg.device
        return ""

    def _mixmonitor_start(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        call_key = self._key(msg)
        return [
            te.RecordingStarted(
                call_key=call_key,
                at=at,
                dedup_key=key,
                leg_id=text(msg, "Uniqueid"),
                agent=self._recording_agent(call_key),
            )
        ]

    def _mixmonitor_mute(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        muted = text(msg, "State") == "1"
        return [
            te.RecordingMuted(
                call_key=self._key(msg),
                at=at,
                dedup_key=f"{key}:{int(muted)}",
                leg_id=text(msg, "Uniqueid"),
                muted=muted,
            )
        ]

    def _mixmonitor_stop(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        return [
            te.RecordingStopped(
                call_key=self._key(msg), at=at, dedup_key=key, leg_id=text(msg, "Uniqueid")
            )
        ]

    def _recording_named(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        filename = text(msg, "Value").strip()
        if not filename:
            return []
        return [
            te.RecordingNamed(
                call_key=self._key(msg),
                at=at,
                dedup_key=f"{key}:{FILENAME_VARIABLE}",
                leg_id=text(msg, "Uniqueid"),
                filename=filename,
            )
        ]


def mute_fields(state: Tracker, call_key: str, paused: bool) -> dict[str, str] | None:
    """The MixMonitorMute pausing (or resuming) the recording of a live call's customer
    leg, both directions; None when the call has no such leg on this PBX."""
    leg = customer_leg(state, call_key)
    if leg is None:
        return None
    return {
        "Action": "MixMonitorMute",
        "Channel": leg.channel,
        "Direction": "both",
        "State": "1" if paused else "0",
    }
