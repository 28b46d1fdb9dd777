"""Twilio's Conferences and their Participants, for the fake REST API (fakeapi.py):

- ``GET .../Conferences.json?Status=in-progress`` lists the conferences in ``rooms``
  with that status (and ``FriendlyName``, the name the TwiML gave it, when asked);
- ``GET .../Conferences/{CF}/Participants.json`` lists a conference's participants;
- ``POST .../Conferences/{CF}/Participants.json`` (From, To, Label, Muted, Coaching,
  CallSidToCoach, Beep ...) adds one with a new CallSid, recorded in ``joined``; as
  Twilio, 400 (code 21220... here: 20001) for coaching without a CallSidToCoach that is
  a participant of that conference;
- ``GET``, ``POST`` (an update, recorded in ``changed``) and ``DELETE`` (recorded in
  ``removed``) of ``.../Participants/{CA... or label}.json``: Twilio addresses a
  participant by its CallSid or its label.

A call that runs ``<Dial><Conference>name</Conference></Dial>`` (fakeapi.py: a call
given that TwiML) ``enter``s the in-progress conference of that name, which starts
with it if there is none (``startConferenceOnEnter``); a participant that leaves
(``leave``: it hung up, or was removed) with ``endConferenceOnExit`` ends the conference,
and every other participant is out of it then, as Twilio does.

Booleans are Twilio's form strings ("true"/"false") as twilio-python sends them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

_BASE = r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Conferences"
_CONFERENCES = re.compile(_BASE + r"\.json$")
_PARTICIPANTS = re.compile(_BASE + r"/(CF[0-9a-fA-F]{32})/Participants\.json$")
_PARTICIPANT = re.compile(_BASE + r"/(CF[0-9a-fA-F]{32})/Participants/([^/]+)\.json$")

Answer = tuple[int, dict[str, object]]
_NOT_FOUND: Answer = (404, {"code": 20404, "message": "Not found", "status": 404})


@dataclass
class Participant:
    call_sid: str
    label: str = ""
    muted: bool = False
    coaching: bool = False
    call_sid_to_coach: str = ""
    end_conference_on_exit: bool = False

    def json(self, account_sid: str, conference_sid: str) -> dict[str, object]:
        return {
            "account_sid": account_sid,
            "conference_sid": conference_sid,
            "call_sid": self.call_sid,
            "label": self.label or None,
            "muted": self.muted,
            "coaching": self.coaching,
            "call_sid_to_coach": self.call_sid_to_coach or None,
            "hold": False,
            "status": "connected",
        }


@dataclass
class Room:
    sid: str
    participants: list[Participant]
    status: str = "in-progress"
    friendly_name: str = ""


@dataclass
class FakeConferences:
    rooms: list[Room] = field(default_factory=list)
    joined: list[dict[str, str]] = field(default_factory=list)  # the create forms
    changed: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (who, form)
    removed: list[str] = field(default_factory=list)  # who: CallSid or label, as asked
    # A participant created with a StatusCallback for its leg's end: CallSid -> that URL.
    leg_callbacks: dict[str, str] = field(default_factory=dict)
    created = 0

    def add(self, sid: str, *call_sids: str) -> Room:
        room = Room(sid, [Participant(c) for c in call_sids])
        self.rooms.append(room)
        return room

    def enter(self, name: str, call_sid: str, *, label: str = "", end_on_exit: bool) -> Room:
        """A call's ``<Dial><Conference>name``: into that in-progress conference, started
        for it when there is none."""
        room = next(
            (r for r in self.rooms if r.friendly_name == name and r.status == "in-progress"),
            None,
        )
        if room is None:
            self.created += 1
            room = Room(f"CF{0xC0F << 64 | self.created:032x}", [], friendly_name=name)
            self.rooms.append(room)
        room.participants.append(
            Participant(call_sid, label=label, end_conference_on_exit=end_on_exit)
        )
        return room

    def leave(self, call_sid: str) -> list[str]:
        """The call leaves its conference (it hung up, or got other TwiML). Returns the
        calls the conference's end took out with it (none if it goes on)."""
        for room in self.rooms:
            found = next((p for p in room.participants if p.call_sid == call_sid), None)
            if found is None or room.status != "in-progress":
                continue
            room.participants.remove(found)
            if not found.end_conference_on_exit:
                return []
            room.status = "completed"
            ended = [p.call_sid for p in room.participants]
            room.participants.clear()
            return ended
        return []

    def room_of(self, call_sid: str) -> Room | None:
        """The in-progress conference the call is in."""
        return next(
            (
                r
                for r in self.rooms
                if r.status == "in-progress" and any(p.call_sid == call_sid for p in r.participants)
            ),
            None,
        )

    def _room(self, sid: str) -> Room | None:
        return next((r for r in self.rooms if r.sid == sid), None)

    @staticmethod
    def _find(room: Room, who: str) -> Participant | None:
        return next((p for p in room.participants if who in (p.call_sid, p.label)), None)

    def get(self, path: str) -> Answer | None:
        url = urlsplit(path)
        listed = _CONFERENCES.match(url.path)
        if listed:
            query = parse_qs(url.query)
            status = query.get("Status", [""])[0]
            name = query.get("FriendlyName", [""])[0]
            rooms = [
                r
                for r in self.rooms
                if (not status or r.status == status) and (not name or r.friendly_name == name)
            ]
            return 200, {
                "conferences": [
                    {
                        "sid": r.sid,
                        "account_sid": listed[1],
                        "status": r.status,
                        "friendly_name": r.friendly_name or r.sid,
                    }
                    for r in rooms
                ],
                "next_page_uri": None,
                "page": 0,
                "page_size": 50,
            }
        many = _PARTICIPANTS.match(url.path)
        if many:
            room = self._room(many[2])
            if room is None:
                return _NOT_FOUND
            return 200, {
                "participants": [p.json(many[1], room.sid) for p in room.participants],
                "next_page_uri": None,
                "page": 0,
                "page_size": 50,
            }
        one = _PARTICIPANT.match(url.path)
        if one:
            room = self._room(one[2])
            found = self._find(room, one[3]) if room else None
            return (200, found.json(one[1], one[2])) if found else _NOT_FOUND
        return None

    def post(self, path: str, form: dict[str, str]) -> Answer | None:
        many = _PARTICIPANTS.match(path)
        if many:
            room = self._room(many[2])
            if room is None:
                return _NOT_FOUND
            refusal = self._check_coaching(room, form)
            if refusal:
                return refusal
            self.created += 1
            participant = Participant(
                call_sid=f"CA{0xC0AC4 << 64 | self.created:032x}", label=form.get("Label", "")
            )
            self._apply(participant, form)
            room.participants.append(participant)
            self.joined.append(form)
            if form.get("StatusCallback") and "completed" in form.get("StatusCallbackEvent", ""):
                # Twilio reports the participant's call leg there once it is over.
                self.leg_callbacks[participant.call_sid] = form["StatusCallback"]
            return 201, participant.json(many[1], room.sid)
        one = _PARTICIPANT.match(path)
        if one:
            room = self._room(one[2])
            found = self._find(room, one[3]) if room else None
            if room is None or found is None:
                return _NOT_FOUND
            refusal = self._check_coaching(room, form)
            if refusal:
                return refusal
            self._apply(found, form)
            self.changed.append((one[3], form))
            return 200, found.json(one[1], one[2])
        return None

    def delete(self, path: str) -> Answer | None:
        one = _PARTICIPANT.match(path)
        if one is None:
            return None
        room = self._room(one[2])
        found = self._find(room, one[3]) if room else None
        if room is None or found is None:
            return _NOT_FOUND
        room.participants.remove(found)
        self.removed.append(one[3])
        return 204, {}

    @staticmethod
    def _check_coaching(room: Room, form: dict[str, str]) -> Answer | None:
        if form.get("Coaching") != "true":
            return None
        coached = form.get("CallSidToCoach", "")
        if not any(p.call_sid == coached for p in room.participants):
            message = "CallSidToCoach must be a participant of the conference"
            return 400, {"code": 20001, "message": message, "status": 400}
        return None

    @staticmethod
    def _apply(participant: Participant, form: dict[str, str]) -> None:
        if "Muted" in form:
            participant.muted = form["Muted"] == "true"
        if "Coaching" in form:
            participant.coaching = form["Coaching"] == "true"
            if not participant.coaching:
                participant.call_sid_to_coach = ""
        if "CallSidToCoach" in form:
            participant.call_sid_to_coach = form["CallSidToCoach"]
        if "EndConferenceOnExit" in form:
            participant.end_conference_on_exit = form["EndConferenceOnExit"] == "true"
