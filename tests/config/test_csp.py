"""A Content-Security-Policy on every page: scripts from this server only (no inline
script anywhere), and only the console may connect to the PBX's SIP WebSocket and to
Twilio. The browser tests (tests/e2e) run the console and wallboard under it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from contactcenter.models import Agent
from tests.conftest import Floor

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _policy(response: object) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


def test_every_kind_of_page_has_the_policy(floor_a: Floor, settings: object) -> None:
    browser = Client()
    browser.force_login(floor_a.supervisor.user)
    for path in (
        "/login/",
        "/wallboard/",
        "/api/v1/me/",
        "/api/docs/",
        "/admin/login/",
        "/healthz",
    ):
        response = browser.get(path)
        policy = _policy(response)
        assert policy["script-src"] == ["'self'"], (path, policy)
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
        assert policy["default-src"] == ["'self'"] and policy["base-uri"] == ["'self'"]
        inline_styles = path.startswith(("/api/docs/", "/admin/"))
        assert ("'unsafe-inline'" in policy["style-src"]) is inline_styles, (path, policy)
        assert policy["connect-src"] == ["'self'"], (path, policy)


def test_the_console_may_reach_its_softphone_endpoints(floor_a: Floor, settings: object) -> None:
    settings.SOFTPHONE_SIP_WEBSOCKET_URL = "wss://pbx.example.com:8089/ws"  # type: ignore[attr-defined]
    Agent.objects.filter(pk=floor_a.agent.pk).update(sip_websocket_url="ws://10.0.0.7:8088/ws")
    browser = Client()
    browser.force_login(floor_a.agent_member.user)
    policy = _policy(browser.get("/console/"))
    assert policy["script-src"] == ["'self'"]
    assert set(policy["connect-src"]) == {
        "'self'",
        "wss://pbx.example.com:8089",
        "ws://10.0.0.7:8088",
        "wss://*.twilio.com",
        "https://*.twilio.com",
    }
    assert set(policy["media-src"]) == {"'self'", "https://sdk.twilio.com"}


def test_our_templates_hold_no_inline_script_or_style() -> None:
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=|javascript:", re.I
    )
    templates = sorted((ROOT / "realtime" / "templates").rglob("*.html"))
    assert templates
    for template in templates:
        found = inline.findall(template.read_text())
        assert not found, (template.name, found)
