"""The issue-26 transcripts again, as a server with ``SystemName`` set sends them: every
Uniqueid and Linkedid carries the system's prefix (``pbx1-1741957200.31``). Nothing may
read them as numbers; the records are the same, keyed by the prefixed ids."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from contactcenter.models import Agent, Call
from provisioning.demo import seed_demo
from tests.telephony.conftest import TRANSCRIPTS
from tests.telephony.expectations import EXPECTED, check_call
from tests.telephony.replay_offline import replay

pytestmark = pytest.mark.django_db

PREFIX = "pbx1-"
# Files 10 to 22 (written for issue 26); none expects an action but Login.
NAMES = sorted(n for n in EXPECTED if n[:2].isdigit() and int(n[:2]) >= 10)
_IDS = re.compile(rb"^((?:\w*)(?:Uniqueid|Linkedid|UniqueId)): (\d+\.\d+)\r$", re.MULTILINE)


def _prefixed(name: str) -> bytes:
    data = (TRANSCRIPTS / name).read_bytes()
    return _IDS.sub(lambda m: m[1] + b": " + PREFIX.encode() + m[2] + b"\r", data)


def _want(want: dict[str, Any]) -> dict[str, Any]:
    want = copy.deepcopy(want)
    for key in ("linkedid", "joined_with"):
        if want.get(key):
            want[key] = PREFIX + want[key]
    return want


@pytest.mark.parametrize("name", NAMES)
def test_prefixed_ids_give_the_same_records(name: str) -> None:
    data = _prefixed(name)
    assert data.count(PREFIX.encode()) > 10
    org = seed_demo().organization
    agents = set(Agent.objects.filter(organization=org).values_list("interface", flat=True))
    replay(name, org.pk, agents, batch=50, data=data)
    calls = {c.external_id: c for c in Call.objects.filter(organization=org)}
    wanted = EXPECTED[name]["calls"]
    assert sorted(calls) == sorted(PREFIX + w["linkedid"] for w in wanted)
    for want in wanted:
        check_call(calls[PREFIX + want["linkedid"]], _want(want))
