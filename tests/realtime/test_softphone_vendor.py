"""The vendored JsSIP is the pinned build, with its licenses, and the console loads it."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "realtime" / "static" / "realtime"
VENDOR = STATIC / "vendor" / "jssip"


def test_pinned_build_and_licenses() -> None:
    readme = (VENDOR / "README.md").read_text()
    digest = hashlib.sha256((VENDOR / "jssip.min.js").read_bytes()).hexdigest()
    assert f"`{digest}`" in readme, "jssip.min.js changed: update vendor/jssip/README.md"
    assert "| jssip | 3.13.8 |" in readme
    assert "Permission is hereby granted" in (VENDOR / "LICENSE.md").read_text()  # MIT
    bundled = (VENDOR / "LICENSES-bundled.txt").read_text()
    for package in ("debug", "events", "sdp-transform", "ms"):
        assert f"==== {package} " in bundled
    # An ES module with JsSIP as its default export, as softphone-phone.js imports it.
    tail = (VENDOR / "jssip.min.js").read_text()[-2000:]
    assert re.search(r"export\s*\{[^}]*as default", tail)


def test_console_loads_the_softphone_from_static_files() -> None:
    page = (ROOT / "realtime" / "templates" / "realtime" / "console.html").read_text()
    assert "realtime/js/softphone.js" in page
    phone = (STATIC / "js" / "softphone-phone.js").read_text()
    assert 'from "../vendor/jssip/jssip.min.js"' in phone


def test_pinned_twilio_voice_sdk_and_license() -> None:
    vendor = STATIC / "vendor" / "twilio-voice"
    readme = (vendor / "README.md").read_text()
    digest = hashlib.sha256((vendor / "twilio.min.js").read_bytes()).hexdigest()
    assert f"`{digest}`" in readme, "twilio.min.js changed: update vendor/twilio-voice/README.md"
    assert "| @twilio/voice-sdk | 2.18.5 |" in readme
    assert "Apache License, Version 2.0" in (vendor / "LICENSE.md").read_text()
    # The classic script that defines window.Twilio.Device, as softphone-twilio.js expects.
    tail = (vendor / "twilio.min.js").read_text()[-1000:]
    assert "Twilio.Device=Twilio.Device||Voice.Device" in tail


def test_console_loads_the_twilio_sdk_from_static_files_only_on_demand() -> None:
    page = (ROOT / "realtime" / "templates" / "realtime" / "console.html").read_text()
    assert "realtime/vendor/twilio-voice/twilio.min.js" in page  # the URL, not a script tag
    assert 'twilio.min.js"></script>' not in page
    phone = (STATIC / "js" / "softphone-twilio.js").read_text()
    assert "/api/v1/telephony/twilio/token/" in phone
