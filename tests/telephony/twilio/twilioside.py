"""Twilio's side of routed calls, for tests: callers dial in through the signed Voice
URL, the server rings agents through the REST API (the fake API on a real socket
records each call update), and the test says what each agent's phone does; this module
then sends the webhooks Twilio would, in Twilio's order (tests/telephony/twilio/
scenarios.py has the field sets), to the paths the server's TwiML named.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit
from xml.etree import ElementTree

from telephony.twilio.callbacks import Hints, webhook_path
from tests.telephony.twilio.fakeapi import FakeTwilioAPI
from tests.telephony.twilio.signed import ACCOUNT_SID, OUR_NUMBER, TwilioRequest, call_sid


class Answer(Protocol):
    """The server's answer: a Django test response, or a ``requests`` one."""

    status_code: int
    content: bytes


Deliver = Callable[[TwilioRequest], Answer]
_sids = itertools.count(0x10000)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class Ring:
    """The server asked Twilio to ring ``identity`` with the caller ``call``."""

    call: str
    identity: str
    leg: str
    status_path: str
    action_path: str
    timeout: int


@dataclass
class TwilioSide:
    deliver: Deliver
    api: FakeTwilioAPI
    queue: str = "support"
    seen: int = 0  # call updates already turned into rings
    callers: dict[str, str] = field(default_factory=dict)  # call sid -> caller number
    # Calls the server redirected to other TwiML than a <Dial> (call sid, path).
    redirects: list[tuple[str, str]] = field(default_factory=list)
    # Callers in a conference: the path of their <Dial><Conference>'s action.
    room_actions: dict[str, str] = field(default_factory=dict)
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    def _fields(self, sid: str, status: str, direction: str, **extra: str) -> dict[str, str]:
        return {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "CallSid": sid,
            "CallStatus": status,
            "Direction": direction,
            **extra,
        }

    def _send(self, path: str, fields: dict[str, str]) -> Answer:
        response = self.deliver(TwilioRequest(path, fields))
        assert response.status_code in (200, 204), (path, response.status_code, response.content)
        return response

    def caller_arrives(self, n: int) -> str:
        """Caller ``n`` calls our number: the Voice URL, then Twilio runs the TwiML."""
        sid = call_sid(n)
        number = f"+1555000{n:04d}"
        self.callers[sid] = number
        numbers = {"From": number, "To": OUR_NUMBER}
        voice = webhook_path("voice", Hints(queue=self.queue))
        answer = self._send(voice, self._fields(sid, "ringing", "inbound", **numbers))
        assert b"<Enqueue" in answer.content, answer.content
        self._send(webhook_path("status"), self._fields(sid, "in-progress", "inbound", **numbers))
        return sid

    def rings(self, count: int | None = None) -> list[Ring]:
        """The agents the server asked to ring since the last look (waiting for
        ``count`` of them, when given)."""
        if count is not None:
            self.api.wait_updates(self.seen + count)
        updates = self.api.updates[self.seen :]
        self.seen += len(updates)
        rings = []
        for update in updates:
            document = ElementTree.fromstring(update.fields["Twiml"])
            if document.find("Dial/Conference") is not None:
                continue  # an agent's leg moved into a conference (fakeapi.py: dials_over)
            dial = document.find("Dial")
            if dial is None:  # the caller taken out of the queue (an exit)
                redirect = document.find("Redirect")
                assert redirect is not None, update.fields
                self.redirects.append((update.call_sid, _path(redirect.text or "")))
                continue
            # A ring-all <Dial> has a <Client> per agent: one leg, one ring, each.
            clients = dial.findall("Client")
            assert clients, update.fields
            rings += [
                Ring(
                    call=update.call_sid,
                    identity=client.findtext("Identity") or "",
                    leg=call_sid(next(_sids)),
                    status_path=_path(client.get("statusCallback", "")),
                    action_path=_path(dial.get("action", "")),
                    timeout=int(dial.get("timeout", "0")),
                )
                for client in clients
            ]
        return rings

    def _leg(self, ring: Ring, status: str, **extra: str) -> None:
        leg = {"From": self.callers[ring.call], "To": f"client:{ring.identity}"}
        progress = {
            "SequenceNumber": str(next(self._seq)),
            "CallbackSource": "call-progress-events",
        }
        fields = self._fields(
            ring.leg, status, "outbound-dial", ParentCallSid=ring.call, **leg, **progress, **extra
        )
        self._send(ring.status_path, fields)

    def _dial_result(self, ring: Ring, parent: str, dial_status: str, **extra: str) -> Answer:
        numbers = {"From": self.callers[ring.call], "To": OUR_NUMBER}
        fields = self._fields(
            ring.call,
            parent,
            "inbound",
            DialCallStatus=dial_status,
            DialCallSid=ring.leg,
            **numbers,
            **extra,
        )
        return self._send(ring.action_path, fields)

    def _left_queue(self, ring: Ring) -> None:
        numbers = {"From": self.callers[ring.call], "To": OUR_NUMBER}
        fields = self._fields(
            ring.call, "in-progress", "inbound", QueueResult="redirected", QueueTime="1", **numbers
        )
        self._send(webhook_path("queue-result", Hints(queue=self.queue)), fields)

    def answer(self, ring: Ring) -> None:
        """The agent's browser rings, and they answer."""
        self.ringing(ring)
        self.answered(ring)

    def ringing(self, ring: Ring) -> None:
        """The caller leaves the queue for the agent's client, whose browser rings."""
        self._left_queue(ring)
        self._leg(ring, "ringing")

    def answered(self, ring: Ring) -> None:
        """The agent answers their ringing browser: their leg is bridged to the caller."""
        with self.api.lock:
            self.api.legs[ring.leg] = ring.call
        self._leg(ring, "in-progress")

    def moved(self, ring: Ring, talk: int = 20) -> str:
        """The server gave the agent's answered leg new TwiML (a ``<Dial><Conference>``:
        the fake API put the leg in that conference): the leg has left the caller's
        ``<Dial>``, which is over while the caller is still on the line, so Twilio asks
        for its action (``DialCallStatus=completed``, ``CallStatus=in-progress``, the
        bridged time), and the caller runs the answer: into the conference. Returns the
        conference's name."""
        with self.api.lock:
            assert ring.leg in self.api.dials_over, "the agent's leg was not given new TwiML"
        answer = self._dial_result(ring, "in-progress", "completed", DialCallDuration=str(talk))
        dial = ElementTree.fromstring(answer.content).find("Dial")
        assert dial is not None, answer.content
        room = dial.find("Conference")
        assert room is not None and room.text, answer.content
        with self.api.lock:
            self.api.conferences.enter(
                room.text,
                ring.call,
                label=room.get("participantLabel", ""),
                end_on_exit=room.get("endConferenceOnExit") == "true",
            )
        self.room_actions[ring.call] = _path(dial.get("action", ""))
        return room.text

    def caller_hangs_up_in_room(self, ring: Ring) -> None:
        """The caller of a call moved into a conference hangs up: they leave it (ending it,
        with ``endConferenceOnExit``, which takes the agent's leg out: its TwiML has no
        more verbs, so that leg ends); the caller's ``<Dial><Conference>`` action comes
        (the caller's call completed), then the call's end."""
        with self.api.lock:
            ended = self.api.conferences.leave(ring.call)
        if ring.leg in ended:
            self._leg(ring, "completed")
        self._room_over(ring, "completed")
        self._ended(ring.call)

    def supervisor_hangs_up(self, label: str) -> str:
        """The supervisor whose participant is ``label`` hangs up their softphone: the
        leg leaves its conference (which goes on: the participant does not end it) and,
        as Twilio documents for a participant created with a ``StatusCallback`` and
        ``StatusCallbackEvent=completed``, that leg's status callback follows (its own
        CallSid, ``CallStatus=completed``). Returns the leg's CallSid."""
        with self.api.lock:
            [leg] = [
                p.call_sid
                for room in self.api.conferences.rooms
                if room.status == "in-progress"
                for p in room.participants
                if p.label == label
            ]
            ended = self.api.conferences.leave(leg)
            url = self.api.conferences.leg_callbacks.get(leg, "")
        assert ended == [], "the supervisor's leaving ended the conference"
        assert url, "the participant was created with no status callback for its end"
        fields = self._fields(
            leg, "completed", "outbound-api", From="client:contact-center", CallDuration="5"
        )
        self._send(_path(url), fields)
        return leg

    def agent_hangs_up_in_room(self, ring: Ring) -> None:
        """The agent of a call moved into a conference hangs up: their leg leaves it (and
        ends it, with ``endConferenceOnExit``); the caller's ``<Dial><Conference>`` is over
        with the caller still on the line: its action, whose answer (no more verbs) ends
        the caller's call too."""
        with self.api.lock:
            ended = self.api.conferences.leave(ring.leg)
        self._leg(ring, "completed")
        assert ring.call in ended, "the conference went on without the agent"
        answer = self._room_over(ring, "in-progress")
        assert ElementTree.fromstring(answer.content).find("*") is None, answer.content
        self._ended(ring.call)

    def _ended(self, sid: str) -> None:
        numbers = {"From": self.callers[sid], "To": OUR_NUMBER}
        self._send(webhook_path("status"), self._fields(sid, "completed", "inbound", **numbers))

    def _room_over(self, ring: Ring, parent: str) -> Answer:
        # Twilio's Dial action of a <Conference>: DialCallStatus "answered" (the party
        # was connected), no DialCallSid: nobody was dialled.
        numbers = {"From": self.callers[ring.call], "To": OUR_NUMBER}
        fields = self._fields(ring.call, parent, "inbound", DialCallStatus="answered", **numbers)
        return self._send(self.room_actions[ring.call], fields)

    def hang_up(self, ring: Ring, talk: int = 30) -> None:
        """The caller hangs up an answered call."""
        self._leg(ring, "completed", CallDuration=str(talk))
        self._dial_result(ring, "completed", "completed", DialCallDuration=str(talk))
        numbers = {"From": self.callers[ring.call], "To": OUR_NUMBER}
        self._send(
            webhook_path("status"), self._fields(ring.call, "completed", "inbound", **numbers)
        )

    def not_taken(self, ring: Ring, outcome: str = "no-answer") -> None:
        """The agent does not answer in time (``no-answer``) or rejects (``busy``): the
        Dial action puts the caller back in the queue."""
        self._left_queue(ring)
        self._leg(ring, "ringing")
        self._leg(ring, outcome)
        answer = self._dial_result(ring, "in-progress", outcome)
        assert b"<Enqueue" in answer.content, answer.content

    def canceled(self, ring: Ring) -> None:
        """Another agent answered first: Twilio hangs up this ringing leg."""
        self._leg(ring, "ringing")
        self._leg(ring, "canceled")

    def rejects(self, ring: Ring) -> None:
        """One agent of a ring-all rejects the call; the others keep ringing."""
        self._leg(ring, "ringing")
        self._leg(ring, "busy")

    def nobody_answers(self, rings: list[Ring]) -> None:
        """A ring-all <Dial>: no agent answers in time; the caller goes back in line."""
        self._left_queue(rings[0])
        for ring in rings:
            self._leg(ring, "ringing")
            self._leg(ring, "no-answer")
        answer = self._dial_result(rings[-1], "in-progress", "no-answer")
        assert b"<Enqueue" in answer.content, answer.content

    def follow(self, sid: str, path: str, **extra: str) -> Answer:
        """Twilio fetches the TwiML at ``path`` for the call (a redirect, a Gather's key)."""
        numbers = {"From": self.callers[sid], "To": OUR_NUMBER}
        return self._send(path, self._fields(sid, "in-progress", "inbound", **numbers, **extra))

    def left_queue(self, sid: str) -> None:
        """The Enqueue action of a caller redirected out of the queue (by REST)."""
        numbers = {"From": self.callers[sid], "To": OUR_NUMBER}
        fields = self._fields(
            sid, "in-progress", "inbound", QueueResult="redirected", QueueTime="1", **numbers
        )
        self._send(webhook_path("queue-result", Hints(queue=self.queue)), fields)

    def caller_hangs_up(self, sid: str) -> None:
        """A caller gives up (while waiting, or while an agent rings)."""
        numbers = {"From": self.callers[sid], "To": OUR_NUMBER}
        self._send(webhook_path("status"), self._fields(sid, "completed", "inbound", **numbers))
