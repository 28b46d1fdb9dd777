"""A call our Twilio routing connected, ready for a supervisor to monitor: shared by
test_monitoring.py and test_monitor_hangup.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rest_framework.test import APIClient

from contactcenter.enums import QueueStrategy, RecordingPolicy
from contactcenter.models import Agent, Call, CallEvent
from tests.conftest import Floor, client_for
from tests.factories import make_agent
from tests.telephony.twilio.fakeapi import FakeTwilioAPI
from tests.telephony.twilio.routing.conftest import RoutedFloor, routed_floor
from tests.telephony.twilio.twilioside import Ring


@dataclass
class Monitored:
    f: RoutedFloor
    ring: Ring
    call: Call
    agent: Agent
    supervisor: APIClient
    label: str  # the supervisor's participant
    answered_event: int  # the last timeline entry before any monitoring

    def monitor(self, mode: str) -> Any:
        return self.supervisor.post(
            f"/api/v1/calls/{self.call.pk}/monitor/", {"mode": mode}, format="json"
        )

    def stop(self) -> Any:
        return self.supervisor.post(f"/api/v1/calls/{self.call.pk}/monitor/stop/", format="json")

    def record(self) -> Call:
        return Call.objects.get(pk=self.call.pk)


def connect(floor_a: Floor, twilio_api: FakeTwilioAPI, *, records: bool = False) -> Monitored:
    """Alice answered a caller our routing offered her; the supervisor has a softphone."""
    f = routed_floor(floor_a, twilio_api, agents=1, strategy=QueueStrategy.RRMEMORY)
    f.queue.wrapup_seconds = 30
    if records:
        f.queue.recording_policy = RecordingPolicy.ALL
    f.queue.save()
    [agent] = f.agents
    f.available(agent)
    profile = make_agent(floor_a.org, floor_a.supervisor)
    f.twilio.caller_arrives(1)
    [ring] = f.twilio.rings()
    f.twilio.answer(ring)
    call = Call.objects.get(external_id=ring.call)
    assert call.answered_at is not None and call.agent_id == agent.pk
    label = f"cc-monitor:{profile.twilio_identity}"
    last = CallEvent.objects.filter(call=call).order_by("-pk").values_list("pk", flat=True)[0]
    return Monitored(f, ring, call, agent, client_for(floor_a.supervisor), label, last)


def state(agent: Agent) -> str:
    agent.refresh_from_db()
    return str(agent.state)


def timeline(m: Monitored) -> list[str]:
    """The call's timeline since the agent answered, in the order it was written."""
    return list(
        CallEvent.objects.filter(call=m.call, pk__gt=m.answered_event)
        .order_by("pk")
        .values_list("type", flat=True)
    )


def room(api: FakeTwilioAPI, name: str) -> dict[str, str]:
    """Who is in the conference ``name`` now: CallSid -> label."""
    [found] = [r for r in api.conferences.rooms if r.friendly_name == name]
    return {p.call_sid: p.label for p in found.participants} if found.status != "completed" else {}
