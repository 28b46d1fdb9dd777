"""Asterisk's side of a supervisor's monitoring call, stood in for in the Kamailio
softphone test (tests/e2e/test_softphone.py).

The e2e tests run no Asterisk. The AMI simulator answers the bridge's ChanSpy Originate
and reports the session as Asterisk does (``ChanSpyStart``, ``ChanSpyStop``, the leg's
``Hangup``), but it carries no SIP and no media. What Asterisk's PJSIP channel would do
on the wire is played here by a Chromium page running JsSIP with Chromium's fake
microphone (a tone), registered to Kamailio as the PBX: it places the SIP call to the
supervisor's phone, with the caller ID and the header the bridge's Originate sets, and
sends the BYE when the PBX hangs the monitoring leg up. The test learns both moments
from the simulator's AMI events (``AmiEvents``), as the bridge does.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from telephony.ami.frames import AmiMessage, FrameParser, serialize
from tests.e2e.stack import AMI_SECRET, WAIT_TIMEOUT

JSSIP = Path(__file__).parents[2] / "realtime/static/realtime/vendor/jssip/jssip.min.js"
JS = "text/javascript"

PAGE = """<!doctype html>
<meta charset="utf-8"><title>PBX stand-in</title>
<script type="module">
import JsSIP from "./jssip.min.js";

// The PBX's leg to the supervisor's phone, as JsSIP sees it.
window.pbx = {
  registration: "off",
  call: "none",
  start(url, user, password, domain) {
    const ua = new JsSIP.UA({
      sockets: [new JsSIP.WebSocketInterface(url)],
      uri: `sip:${user}@${domain}`,
      password,
      register: true,
      session_timers: false,
      user_agent: "pbx-standin (JsSIP)",
    });
    ua.on("registered", () => { this.registration = "registered"; });
    ua.on("registrationFailed", (e) => { this.registration = `failed: ${e.cause}`; });
    ua.start();
    this.ua = ua;
    this.domain = domain;
  },
  dial(user, { name, number, headers }) {
    this.call = "calling";
    const session = this.ua.call(`sip:${user}@${this.domain}`, {
      fromDisplayName: name,
      fromUserName: number,
      extraHeaders: headers,
      mediaConstraints: { audio: true, video: false },
      pcConfig: { iceServers: [] },
    });
    session.on("confirmed", () => { this.call = "confirmed"; });
    session.on("ended", (e) => { this.call = `ended: ${e.originator}`; });
    session.on("failed", (e) => { this.call = `failed: ${e.cause}`; });
    this.session = session;
  },
  hangup() {
    this.session.terminate();
  },
};
document.body.dataset.ready = "true";
</script>
"""


class AmiEvents:
    """An AMI session with events on, for the test to wait for what the PBX reports."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.parser = FrameParser()
        self.seen: list[AmiMessage] = []
        self.read = 0  # events before this index were already waited for
        self.sock.sendall(
            serialize(
                [
                    ("Action", "Login"),
                    ("ActionID", "standin-login"),
                    ("Username", "bridge"),
                    ("Secret", AMI_SECRET),
                    ("Events", "on"),
                ]
            )
        )
        login = self._next(lambda m: m.action_id == "standin-login", "the login's answer")
        assert login.response == "Success", login.fields

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(serialize([("Action", "Logoff")]))
        self.sock.close()

    def wait_for(self, event: str, match: Callable[[AmiMessage], bool]) -> AmiMessage:
        """The first ``event`` not waited for yet that ``match`` accepts."""
        return self._next(lambda m: m.event == event and match(m), event)

    def _next(self, match: Callable[[AmiMessage], bool], what: str) -> AmiMessage:
        deadline = time.monotonic() + WAIT_TIMEOUT
        while True:
            for index in range(self.read, len(self.seen)):
                if match(self.seen[index]):
                    self.read = index + 1
                    return self.seen[index]
            left = deadline - time.monotonic()
            assert left > 0, f"the PBX never reported {what}"
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            assert data, f"the PBX closed the connection before {what}"
            self.seen += [f for f in self.parser.feed(data) if isinstance(f, AmiMessage)]


class StandinServer:
    """The stand-in's page and JsSIP, from a server of its own on loopback (a page the
    test fulfilled itself would not count as local: Chromium then refuses its
    WebSocket to kamailio on loopback)."""

    def __init__(self) -> None:
        files = {"/": (PAGE.encode(), "text/html"), "/jssip.min.js": (JSSIP.read_bytes(), JS)}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body, kind = files.get(self.path, (b"", "text/plain"))
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def standin_page(browser: Any, server: StandinServer, log: Path) -> Any:
    """The stand-in's page, in a browser context of its own; its console goes to ``log``."""
    page = browser.new_context().new_page()
    out = log.open("a", encoding="utf-8", buffering=1)
    page.on("console", lambda message: out.write(f"{message.type}: {message.text}\n"))
    page.on("pageerror", lambda error: out.write(f"pageerror: {error}\n"))
    page.on("close", lambda _page: out.close())
    page.goto(server.url)
    page.wait_for_function("document.body?.dataset.ready === 'true'")
    return page
