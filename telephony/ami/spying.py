"""ChanSpy as the PBX reports it: the Translator's rules for supervisors' monitoring.

The bridge originates the supervisor's monitoring leg with a ChannelId of its own
(``expect_spy``): that leg is no call, so its channel events are dropped. ``ChanSpyStart``
/ ``ChanSpyStop`` name the spyer and the spyee with ``Spyer*`` / ``Spyee*`` prefixes;
the spyee's leg gives the call. The Stop may never come when the spied call hung up
first: the monitoring leg's Hangup then ends the session.
"""

from __future__ import annotations

from datetime import datetime

from contactcenter import facts as te
from telephony.ami.fields import Fields, device_of, text
from telephony.ami.tracker import Spy, Tracker

EVENTS = frozenset({"ChanSpyStart", "ChanSpyStop"})


class SpyRules:
    state: Tracker

    def expect_spy(self, *, channel_id: str, mode: str) -> None:
        """We asked the PBX for a monitoring leg with this Uniqueid."""
        self.state.spies[channel_id] = Spy(mode=mode)

    def forget_spy(self, *, channel_id: str) -> None:
        self.state.spies.pop(channel_id, None)

    def _is_spy_leg(self, msg: Fields) -> bool:
        return text(msg, "Uniqueid") in self.state.spies

    def spy_leg_live(self, channel: Fields) -> bool:
        """Whether a channel a resync lists (CoreShowChannel) is a monitoring leg: ours,
        or one running ChanSpy; kept as a session, with its mode if we asked for it."""
        uniqueid = text(channel, "Uniqueid")
        if uniqueid not in self.state.spies and text(channel, "Application") != "ChanSpy":
            return False
        spy = self.state.spies.setdefault(uniqueid, Spy(mode=""))
        spy.channel = text(channel, "Channel")
        spy.phone = device_of(spy.channel)
        return True

    def _spy_leg_created(self, msg: Fields) -> bool:
        """Whether a new channel is our monitoring leg (its name kept, to hang it up)."""
        spy = self.state.spies.get(text(msg, "Uniqueid"))
        if spy is None:
            return False
        spy.channel = text(msg, "Channel")
        spy.phone = device_of(spy.channel)
        return True

    def _monitor(self, msg: Fields, at: datetime, key: str, *, started: bool) -> list[te.Fact]:
        session = text(msg, "SpyerUniqueid")
        spyee = self.state.legs.get(text(msg, "SpyeeUniqueid"))
        if not session or spyee is None or not spyee.call_key:
            return []  # not a call we follow
        spy = self.state.spies.get(session)
        if spy is None:  # a ChanSpy from the dialplan: reported, its mode unknown
            spy = Spy(mode="")
        spy.call_key = self.state.resolve(spyee.call_key)
        spy.phone = device_of(text(msg, "SpyerChannel"))
        spy.agent = spyee.device
        spy.started = spy.started or started
        spy.stopped = not started
        kind = te.MonitorStarted if started else te.MonitorStopped
        return [
            kind(
                call_key=spy.call_key,
                at=at,
                # The event has no Uniqueid of its own: the session tells two apart.
                dedup_key=f"{key}:{session}",
                session=session,
                phone=spy.phone,
                agent=spy.agent,
                mode=spy.mode,
            )
        ]

    def _chanspy_start(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        return self._monitor(msg, at, key, started=True)

    def _chanspy_stop(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        return self._monitor(msg, at, key, started=False)

    def _spy_hangup(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        """Our monitoring leg hung up: the session ends, if no ChanSpyStop said so."""
        session = text(msg, "Uniqueid")
        spy = self.state.spies.pop(session, None)
        if spy is None or not spy.started or spy.stopped:
            return []
        return [
            te.MonitorStopped(
                call_key=spy.call_key,
                at=at,
                dedup_key=key,
                session=session,
                phone=spy.phone,
                agent=spy.agent,
                mode=spy.mode,
            )
        ]
