"""deploy/asterisk/ for the browser softphone: the WebSocket transport, WebRTC agent
endpoints, and the correlation header on every leg that rings an agent."""

from __future__ import annotations

import re

from provisioning.demo import USERS
from tests.deploy.asterisk_conf import ASTERISK, _values, parse_conf


def _templates() -> dict[str, list[str]]:
    """Section name -> the templates it is built from, for every ``[name](...)`` header."""
    found: dict[str, list[str]] = {}
    for line in (ASTERISK / "pjsip.conf").read_text().splitlines():
        header = re.fullmatch(r"\[([^\]]+)\]\((.*)\)", line.split(";", 1)[0].strip())
        if header:
            found.setdefault(header.group(1), []).extend(
                part.strip() for part in header.group(2).split(",")
            )
    return found


def test_wss_transport_and_http_server() -> None:
    pjsip = parse_conf(ASTERISK / "pjsip.conf")
    assert _values(pjsip["transport-wss"], "protocol") == ["wss"]
    http = parse_conf(ASTERISK / "http.conf")["general"]
    assert _values(http, "tlsenable") == ["yes"]
    assert _values(http, "tlsbindaddr") == ["0.0.0.0:8089"]
    assert _values(http, "bindaddr") == ["127.0.0.1"]  # plain HTTP stays on loopback
    assert _values(parse_conf(ASTERISK / "rtp.conf")["general"], "icesupport") == ["yes"]


def test_agents_are_webrtc_endpoints_on_the_wss_transport() -> None:
    pjsip = parse_conf(ASTERISK / "pjsip.conf")
    template = pjsip["agent-webrtc"]
    assert _values(template, "webrtc") == ["yes"]
    assert _values(template, "transport") == ["transport-wss"]
    assert _values(template, "context") == _values(pjsip["agent-phone"], "context")
    assert "opus" in _values(template, "allow")[0]
    templates = _templates()
    assert "!" in templates["agent-webrtc"]
    for _username, _role, _first, _last, ext in USERS:
        if ext:
            assert "agent-webrtc" in templates[ext], ext


def test_every_leg_to_an_agent_carries_the_linkedid_header() -> None:
    dialplan = parse_conf(ASTERISK / "extensions.conf")
    handler = " ".join(value for _key, value in dialplan["cc-softphone-headers"])
    assert "Set(PJSIP_HEADER(add,X-CC-Linkedid)=${CHANNEL(linkedid)})" in handler
    assert "Return()" in handler
    gosub = "b(cc-softphone-headers^s^1)"
    calls = [
        value
        for name in ("from-trunk", "from-internal")
        for _key, value in dialplan[name]
        if "Queue(" in value or "Dial(PJSIP/${EXTEN}," in value
    ]
    assert calls
    for app in calls:
        assert gosub in app, app
