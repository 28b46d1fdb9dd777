"""MixMonitor, MixMonitorMute and StopMixMonitor, as Asterisk 18 to 22 answer them.

A MixMonitor sets ``MIXMONITOR_FILENAME`` on the channel and raises
``MixMonitorStart``; MixMonitorMute raises ``MixMonitorMute`` (Direction, State);
StopMixMonitor raises ``MixMonitorStop``. A recorded channel that hangs up raises no
Stop, as on a real server. Success replies carry no ``Message`` (MixMonitor's carries
the ``MixMonitorID``); MixMonitorMute on a channel that records nothing still replies
Success, and raises nothing.
"""

from __future__ import annotations

import io
import logging
import math
import struct
import wave
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from telephony.ami.frames import AmiMessage
from telephony.ami.simulator.channels import Channel
from telephony.ami.simulator.pbx import PbxModel
from telephony.ami.simulator.session import response

logger = logging.getLogger(__name__)

Reply = list[AmiMessage]
MONITOR_DIR = "/var/spool/asterisk/monitor"
TONE_SECONDS = 2.0
_DIRECTIONS = {"read", "write", "both"}


@dataclass
class Monitor:
    mixmonitor_id: str
    filename: str
    muted: bool = False


def tone_wav(seconds: float = TONE_SECONDS, rate: int = 8000) -> bytes:
    """A 440 Hz tone, 16-bit mono WAV: what the simulator "records"."""
    frames = b"".join(
        struct.pack("<h", int(6000 * math.sin(2 * math.pi * 440 * n / rate)))
        for n in range(int(seconds * rate))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(frames)
    return out.getvalue()


def _error(action_id: str | None, message: str) -> Reply:
    return [response(action_id, "Error", ("Message", message))]


class RecordingActions:
    """``monitor_dir``: where this host keeps the PBX's monitor directory; when set,
    MixMonitor writes a short tone there (a file named outside it is not written)."""

    def __init__(self, pbx: PbxModel, monitor_dir: str | None = None) -> None:
        self.pbx = pbx
        self.monitor_dir = Path(monitor_dir).resolve() if monitor_dir else None
        self.monitors: dict[str, Monitor] = {}  # by the recorded channel's Uniqueid
        self._next_id = 0x7F3A5C001000

    def _channel(self, action: AmiMessage) -> Channel | Reply:
        name = action.get("Channel") or ""
        if not name:
            return _error(action.action_id, "No channel specified")
        channel = self.pbx.channel(name)
        if channel is None or channel.hungup:
            return _error(action.action_id, "No such channel")
        return channel

    def _live(self, channel: Channel) -> Monitor | None:
        monitor = self.monitors.get(channel.uniqueid)
        return None if channel.hungup else monitor

    async def mixmonitor(self, action: AmiMessage) -> Reply:
        channel = self._channel(action)
        if isinstance(channel, list):
            return channel
        file = action.get("File") or f"{channel.uniqueid}.wav"
        path = file if file.startswith("/") else f"{MONITOR_DIR}/{file}"
        self._next_id += 0x40
        monitor = Monitor(mixmonitor_id=f"0x{self._next_id:x}", filename=path)
        self.monitors[channel.uniqueid] = monitor
        self._write(path)
        # The variable is set as the monitor starts, before any audio (and before Start).
        extra = [("Variable", "MIXMONITOR_FILENAME"), ("Value", path)]
        self.pbx.emit_channel("VarSet", channel, extra, privilege="dialplan")
        self.pbx.emit_channel("MixMonitorStart", channel)
        return [response(action.action_id, "Success", ("MixMonitorID", monitor.mixmonitor_id))]

    async def mixmonitor_mute(self, action: AmiMessage) -> Reply:
        channel = self._channel(action)
        if isinstance(channel, list):
            return channel
        direction = (action.get("Direction") or "both").lower()
        if direction not in _DIRECTIONS:
            return _error(action.action_id, "Invalid direction specified")
        state = action.get("State") or ""
        if state not in {"0", "1"}:
            return _error(action.action_id, "No state specified")
        monitor = self._live(channel)
        if monitor is not None:
            monitor.muted = state == "1"
            extra = [("Direction", direction), ("State", state)]
            self.pbx.emit_channel("MixMonitorMute", channel, extra)
        return [response(action.action_id, "Success")]

    async def stop_mixmonitor(self, action: AmiMessage) -> Reply:
        channel = self._channel(action)
        if isinstance(channel, list):
            return channel
        monitor = self._live(channel)
        wanted = action.get("MixMonitorID")
        if monitor is None or (wanted and wanted != monitor.mixmonitor_id):
            return _error(action.action_id, "Could not stop monitor")
        del self.monitors[channel.uniqueid]
        self.pbx.emit_channel("MixMonitorStop", channel)
        return [response(action.action_id, "Success")]

    def _write(self, path: str) -> None:
        if self.monitor_dir is None:
            return
        name = PurePosixPath(path)
        if not name.is_relative_to(MONITOR_DIR) or ".." in name.parts:
            logger.warning("simulator: not writing %s, outside %s", path, MONITOR_DIR)
            return
        target = (self.monitor_dir / name.relative_to(MONITOR_DIR)).resolve()
        if not target.is_relative_to(self.monitor_dir):
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(tone_wav())
