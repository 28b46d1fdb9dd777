"""What the browser tests of a supervisor monitoring alice's call share
(test_supervisor_page.py, and test_softphone.py's monitoring call through kamailio):
the whole demo stack with the supervisor's phone (2201, in no queue) among the
simulated PBX's phones, alice available, her row on the supervisor page, and a caller
for her who talks far beyond the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import global_settings

from contactcenter.models import Agent
from provisioning.demo import DEMO_ORG_SLUG, SUPERVISOR_EXTENSION
from tests.e2e.pages import REDIS_URL, expect
from tests.e2e.stack import Stack, db_run, demo_stack

CALLER = "+15557654321"  # John Smith, a contact of seed_demo


@pytest.fixture
def stack(transactional_db: None, tmp_path: Path, settings: Any) -> Iterator[Stack]:
    """The whole demo stack (server, bridge, AMI simulator with the supervisor's phone)."""
    # The server checks passwords with the real hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    with demo_stack(tmp_path, REDIS_URL, extra_phones=(SUPERVISOR_EXTENSION,)) as stack:
        yield stack
        # The pages ran under the server's Content-Security-Policy (config/csp.py):
        # nothing they load or open may have been refused by it.
        for log in stack.logs.glob("*-console.log"):
            refused = [line for line in log.read_text().splitlines() if "Security Policy" in line]
            assert not refused, (log.name, refused)


def demo_agent(extension: str) -> Agent:
    agent: Agent = db_run(
        lambda: Agent.objects.get(organization__slug=DEMO_ORG_SLUG, extension=extension)
    )
    return agent


def make_available(console: Any) -> None:
    """The agent of ``console`` (a signed-in console page) takes calls."""
    console.get_by_test_id("state-available").click()
    expect(console.get_by_test_id("agent-state")).to_have_attribute("data-state", "available")


def floor_row(page: Any, agent: Agent) -> Any:
    """``agent``'s row on the supervisor page ``page``."""
    return page.locator(f"[data-testid=floor-agent][data-agent-id='{agent.pk}']")


def call_for_alice(stack: Stack, alice_row: Any) -> Any:
    """A caller for alice: her (simulated) phone answers at once, they talk far beyond
    the test. The call in her row on the supervisor page (``alice_row``), in progress."""
    reply = stack.place_inbound_call(
        CallerID=f'"JOHN SMITH" <{CALLER}>',
        Queue="support",
        Agents="1001",
        AnswerAfter="1",
        Talk="3600",
    )
    assert reply.response == "Success", reply.fields
    call = alice_row.get_by_test_id("agent-call")
    expect(call).to_have_attribute("data-status", "in_progress")
    return call
