"""A fake of Twilio's REST API on a local port, for the credentials check
(telephony.twilio.accounts): ``GET /2010-04-01/Accounts/{sid}.json`` with basic auth
answers 200 when the token is the one registered for the SID, 401 otherwise, as
Twilio does. Served over a real socket, through the same HTTP client as production.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_ACCOUNT = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})\.json$")


class FakeTwilioAPI:
    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}  # account SID -> its auth token
        self.asked: list[tuple[str, str]] = []  # (path, the basic-auth user)
        self.base_url = ""

    def add(self, account_sid: str, auth_token: str) -> None:
        self.tokens[account_sid] = auth_token

    def answer(self, path: str, authorization: str) -> tuple[int, dict[str, object]]:
        user, token = "", ""
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode("latin-1")
            user, _, token = decoded.partition(":")
        self.asked.append((path, user))
        match = _ACCOUNT.match(path)
        if match and user == match[1] and self.tokens.get(user) == token:
            return 200, {"sid": user, "status": "active", "friendly_name": "fake"}
        return 401, {"code": 20003, "message": "Authenticate", "status": 401}


@contextmanager
def fake_twilio_api() -> Iterator[FakeTwilioAPI]:
    api = FakeTwilioAPI()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = api.answer(self.path, self.headers.get("Authorization", ""))
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
