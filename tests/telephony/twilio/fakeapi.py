"""A fake of Twilio's REST API on a local port. Served over a real socket, through the
same HTTP client as production (twilio-python's), with Twilio's request shapes:

- ``GET /2010-04-01/Accounts/{sid}.json`` with basic auth (the credentials check,
  telephony.twilio.accounts) answers 200 when the token is the one registered for the
  SID, 401 otherwise, as Twilio does;
- ``POST /2010-04-01/Accounts/{sid}/Calls/{call}.json`` (a call's update: new TwiML,
  or ``Status=completed``), with the same basic auth, is recorded in ``updates`` and
  answered with the call's JSON; a call in ``gone`` is answered 404 (Twilio's 20404),
  as for a caller who hung up meanwhile. New TwiML takes the call out of the
  conference it is in; a ``<Dial><Conference>`` puts it in that conference
  (fakeconference.py); and a dialled leg (``legs``: its parent) given new TwiML leaves
  its ``<Dial>``, whose parent stays on the line and is owed the Dial action: recorded in
  ``dials_over`` (twilioside.py sends it), as Twilio documents a redirected child leg;
- ``POST /2010-04-01/Accounts/{sid}/Calls.json`` (a new call: To, From, Twiml,
  StatusCallback ...) is recorded in ``created`` and answered 201 with a new call sid;
- ``GET /2010-04-01/Accounts/{sid}/Recordings/{RE...}.mp3`` (or ``.wav``), a recording's
  media with the same basic auth, answers the bytes put in ``media`` (404 for one it does
  not have, as before Twilio has processed it); ``failures`` answers 500 that many
  times first, and a sid in ``cut`` sends half the body under the full Content-Length;
- ``DELETE /2010-04-01/Accounts/{sid}/Recordings/{RE...}.json`` (twilio-python's
  ``client.recordings(sid).delete()``) removes the media, is recorded in ``deleted``
  and answered 204; 404 (20404) for a recording it does not have;
- Conferences and their participants: ``conferences`` (fakeconference.py), with the same
  basic auth;
- ``POST /2010-04-01/Accounts/{sid}/Calls/{call}/Recordings.json`` (twilio-python's
  ``calls(sid).recordings.create(...)``) starts a recording of the call: recorded in
  ``call_recordings`` and answered 201 with a new RecordingSid (404, 20404, for a call in
  ``gone``); ``POST .../Calls/{call}/Recordings/{RE...}.json`` (``.update(status=...)``)
  is recorded in ``recording_updates`` and answered 200, or 404 (21220-like 20404) for a
  recording it did not start.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs
from xml.etree import ElementTree

from tests.telephony.twilio.fakeconference import FakeConferences

_ACCOUNT = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})\.json$")
_CALL = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Calls/(CA[0-9a-fA-F]{32})\.json$")

_CALLS = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Calls\.json$")
_CALL_RECORDINGS = re.compile(
    r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Calls/(CA[0-9a-fA-F]{32})/Recordings"
    r"(?:/(RE[0-9a-fA-F]{32}))?\.json$"
)
_ACCOUNT_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/")
_RECORDING = re.compile(
    r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Recordings/(RE[0-9a-fA-F]{32})\.(mp3|wav|json)$"
)
_MEDIA_TYPES = {"mp3": "audio/mpeg", "wav": "audio/x-wav"}


@dataclass(frozen=True)
class CallUpdate:
    call_sid: str
    fields: dict[str, str]  # the form Twilio received (Twiml, Status ...)


class FakeTwilioAPI:
    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}  # account SID -> its auth token
        self.asked: list[tuple[str, str]] = []  # (path, the basic-auth user)
        self.updates: list[CallUpdate] = []
        self.gone: set[str] = set()  # call SIDs answered 404
        self.created: list[CallUpdate] = []  # calls placed: their new sid, the form
        self.media: dict[str, bytes] = {}  # recording SID -> its media
        self.failures = 0  # media requests answered 500 before the media is served
        self.cut: set[str] = set()  # recording SIDs whose media is sent cut short
        self.media_asked: list[tuple[str, str]] = []  # (path, the basic-auth user)
        self.deleted: list[str] = []  # recording SIDs deleted
        self.call_recordings: list[CallUpdate] = []  # started: the RecordingSid, the form
        self.recording_updates: list[CallUpdate] = []  # paused/resumed: the RecordingSid
        self.base_url = ""
        self.lock = threading.Lock()
        self.updated = threading.Condition(self.lock)
        self.conferences = FakeConferences()
        self.legs: dict[str, str] = {}  # a dialled leg's CallSid -> its parent's, while bridged
        self.dials_over: list[str] = []  # legs that left their parent's <Dial> by new TwiML

    def conference(
        self, method: str, path: str, authorization: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, object]] | None:
        """A Conferences request's answer; None for any other path."""
        match = _ACCOUNT_PATH.match(path)
        if match is None or "/Conferences" not in path:
            return None
        with self.lock:
            if not self._authorized(path, authorization, match[1]):
                return 401, _UNAUTHORIZED
            if method == "GET":
                return self.conferences.get(path)
            if method == "POST":
                return self.conferences.post(path, form or {})
            return self.conferences.delete(path)

    def add(self, account_sid: str, auth_token: str) -> None:
        self.tokens[account_sid] = auth_token

    def _authorized(self, path: str, authorization: str, account_sid: str) -> bool:
        user, token = "", ""
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode("latin-1")
            user, _, token = decoded.partition(":")
        self.asked.append((path, user))
        return user == account_sid and self.tokens.get(user) == token

    def answer(self, path: str, authorization: str) -> tuple[int, dict[str, object]]:
        match = _ACCOUNT.match(path)
        if match and self._authorized(path, authorization, match[1]):
            return 200, {"sid": match[1], "status": "active", "friendly_name": "fake"}
        return 401, _UNAUTHORIZED

    def recording_media(self, path: str, authorization: str) -> tuple[int, bytes, str, int]:
        """(status, body, content type, declared length) of a media request."""
        match = _RECORDING.match(path)
        if match is None or match[3] == "json":
            return 404, b"", "text/plain", 0
        with self.lock:
            self.media_asked.append((path, authorization))
            if not self._authorized(path, authorization, match[1]):
                return 401, b"", "text/plain", 0
            if self.failures > 0:
                self.failures -= 1
                return 500, b"busy", "text/plain", 4
            body = self.media.get(match[2])
        if body is None:
            return 404, b"", "text/plain", 0
        if match[2] in self.cut:
            return 200, body[: len(body) // 2], _MEDIA_TYPES[match[3]], len(body)
        return 200, body, _MEDIA_TYPES[match[3]], len(body)

    def delete(self, path: str, authorization: str) -> tuple[int, dict[str, object]]:
        match = _RECORDING.match(path)
        if match is None or match[3] != "json":
            return 404, {"code": 20404, "message": "Not found", "status": 404}
        with self.lock:
            if not self._authorized(path, authorization, match[1]):
                return 401, _UNAUTHORIZED
            if self.media.pop(match[2], None) is None:
                return 404, {"code": 20404, "message": "Recording not found", "status": 404}
            self.deleted.append(match[2])
        return 204, {}

    def update(
        self, path: str, authorization: str, fields: dict[str, str]
    ) -> tuple[int, dict[str, object]]:
        placed = _CALLS.match(path)
        if placed is not None:
            return self._create(path, authorization, placed[1], fields)
        recording = _CALL_RECORDINGS.match(path)
        if recording is not None:
            return self._call_recording(path, authorization, recording, fields)
        match = _CALL.match(path)
        if match is None:
            return 404, {"code": 20404, "message": "Not found", "status": 404}
        with self.updated:
            if not self._authorized(path, authorization, match[1]):
                return 401, _UNAUTHORIZED
            if match[2] in self.gone:
                return 404, {"code": 20404, "message": "Call not found", "status": 404}
            self.updates.append(CallUpdate(match[2], fields))
            self._new_twiml(match[2], fields)
            self.updated.notify_all()
        status = "completed" if fields.get("Status") == "completed" else "in-progress"
        return 200, {"sid": match[2], "account_sid": match[1], "status": status}

    def _new_twiml(self, call_sid: str, fields: dict[str, str]) -> None:
        """What a call update does to the calls around it (under the lock)."""
        if "Twiml" not in fields and fields.get("Status") != "completed":
            return
        self.conferences.leave(call_sid)
        if call_sid in self.legs:  # out of its parent's <Dial>: the Dial action follows
            del self.legs[call_sid]
            self.dials_over.append(call_sid)
        document = ElementTree.fromstring(fields.get("Twiml") or "<Response/>")
        room = document.find("Dial/Conference")
        if room is not None:
            self.conferences.enter(
                room.text or "",
                call_sid,
                label=room.get("participantLabel", ""),
                end_on_exit=room.get("endConferenceOnExit") == "true",
            )

    def _call_recording(
        self, path: str, authorization: str, match: re.Match[str], fields: dict[str, str]
    ) -> tuple[int, dict[str, object]]:
        account_sid, call_sid, recording_sid = match[1], match[2], match[3]
        with self.lock:
            if not self._authorized(path, authorization, account_sid):
                return 401, _UNAUTHORIZED
            if call_sid in self.gone:
                return 404, {"code": 20404, "message": "Call not found", "status": 404}
            if recording_sid is None:
                sid = f"RE{0x5EC << 64 | len(self.call_recordings) + 1:032x}"
                self.call_recordings.append(CallUpdate(sid, fields))
                body = {"sid": sid, "call_sid": call_sid, "status": "in-progress"}
                return 201, {**body, "account_sid": account_sid}
            if recording_sid not in {r.call_sid for r in self.call_recordings}:
                return 404, {"code": 20404, "message": "Recording not found", "status": 404}
            self.recording_updates.append(CallUpdate(recording_sid, fields))
        return 200, {"sid": recording_sid, "call_sid": call_sid, "status": fields.get("Status")}

    def _create(
        self, path: str, authorization: str, account_sid: str, fields: dict[str, str]
    ) -> tuple[int, dict[str, object]]:
        with self.updated:
            if not self._authorized(path, authorization, account_sid):
                return 401, _UNAUTHORIZED
            sid = f"CA{0xCA11 << 64 | len(self.created) + 1:032x}"
            self.created.append(CallUpdate(sid, fields))
        return 201, {"sid": sid, "account_sid": account_sid, "status": "queued"}

    def wait_updates(self, count: int, timeout: float = 10.0) -> list[CallUpdate]:
        """The first ``count`` updates, once that many arrived (from any thread)."""
        with self.updated:
            if not self.updated.wait_for(lambda: len(self.updates) >= count, timeout):
                raise AssertionError(f"{len(self.updates)} call updates, not {count}")
            return list(self.updates[:count])


_UNAUTHORIZED: dict[str, object] = {"code": 20003, "message": "Authenticate", "status": 401}


@contextmanager
def fake_twilio_api() -> Iterator[FakeTwilioAPI]:
    api = FakeTwilioAPI()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            authorization = self.headers.get("Authorization", "")
            conference = api.conference("GET", self.path, authorization)
            if conference is not None:
                return self._send(*conference)
            if _RECORDING.match(self.path):
                status, body, content_type, declared = api.recording_media(self.path, authorization)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(declared))
                self.end_headers()
                self.wfile.write(body)
                if len(body) < declared:
                    self.close_connection = True
                return
            self._send(*api.answer(self.path, authorization))

        def do_DELETE(self) -> None:
            authorization = self.headers.get("Authorization", "")
            conference = api.conference("DELETE", self.path, authorization)
            status, body = conference or api.delete(self.path, authorization)
            if status == 204:
                self.send_response(204)
                self.end_headers()
                return
            self._send(status, body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
            fields = {key: values[-1] for key, values in form.items()}
            authorization = self.headers.get("Authorization", "")
            conference = api.conference("POST", self.path, authorization, fields)
            if conference is not None:
                return self._send(*conference)
            self._send(*api.update(self.path, authorization, fields))

        def _send(self, status: int, body: dict[str, object]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
