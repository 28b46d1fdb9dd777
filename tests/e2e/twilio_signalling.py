"""Twilio's signalling server for the browser tests, as far as the Voice SDK's
registration and an incoming call go: Playwright routes the SDK's WebSocket
(wss://*.twilio.com/signal) to ``FakeSignalling``, which speaks the SDK's messages
(listen -> connected, register -> ready, invite, reject, error) and checks each token it
is given with the API key secret, as Twilio does. Shared by test_softphone_twilio.py and
test_twilio_routing.py."""

from __future__ import annotations

import json
import re
from typing import Any

import jwt

KEY_SID = "SK" + "2" * 32
KEY_SECRET = "s" * 32
APP_SID = "AP" + "3" * 32
SIGNAL = re.compile(r"^wss://[^/]*twilio\.com/signal")
TOKEN_TTL = 32  # seconds: the console asks for a new token 30 s before expiry


class FakeSignalling:
    """Twilio's signalling WebSocket, as far as registration and an incoming call go."""

    def __init__(self) -> None:
        self.sockets: list[Any] = []
        self.received: list[dict[str, Any]] = []
        self.refuse_next_token = False

    def handle(self, ws: Any) -> None:
        self.sockets.append(ws)
        ws.on_message(lambda message: self.on_message(ws, message))

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m["payload"] for m in self.received if m.get("type") == kind]

    def on_message(self, ws: Any, message: str | bytes) -> None:
        data = json.loads(message)
        self.received.append(data)
        payload = data.get("payload") or {}
        if data.get("type") == "listen":
            if self.refuse_next_token:
                self.refuse_next_token = False
                error = {"code": 31205, "message": "JWT Token Expired"}
                ws.send(json.dumps({"type": "error", "payload": {"error": error}}))
                return
            claims = jwt.decode(payload["token"], KEY_SECRET, algorithms=["HS256"])
            identity = claims["grants"]["identity"]
            token = {"identity": identity, "ttl": TOKEN_TTL}
            body = {"region": "us1", "edge": "ashburn", "home": "us1", "token": token}
            ws.send(json.dumps({"type": "connected", "payload": body}))
        elif data.get("type") == "register":
            ws.send(json.dumps({"type": "ready", "payload": {}}))

    def invite(
        self, *, call_sid: str, parent_sid: str, caller: str, identity: str, sdp: str = ""
    ) -> None:
        """Twilio offers a call to the client; ``sdp``: the media's offer (one without
        media when none is given: enough to ring and reject, not to answer)."""
        params = f"cc_call_sid={parent_sid}"
        parameters = {"From": caller, "To": f"client:{identity}", "Params": params}
        sdp = sdp or "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
        payload = {"callsid": call_sid, "sdp": sdp, "parameters": parameters}
        self.sockets[-1].send(json.dumps({"type": "invite", "payload": payload}))


def pump_until(page: Any, condition: Any, what: str) -> None:
    """Wait for ``condition`` while Playwright dispatches the routed socket's messages."""
    for _ in range(300):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out waiting for {what}")
