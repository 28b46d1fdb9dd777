"""A voicemail left in a queue, through the same door the PBX's facts use (for tests)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from contactcenter import facts as te
from contactcenter.enums import CallSource
from contactcenter.models import Agent, CallQueue, Organization, QueueMembership, Voicemail
from contactcenter.services.telephony import telephony_apply
from tests.factories import make_call


def queue_with(org: Organization, *agents: Agent, name: str = "support") -> CallQueue:
    queue = CallQueue.objects.for_organization(org).filter(pbx_queue_name=name).first()
    if queue is None:
        queue = CallQueue.objects.create(organization=org, name=name.title(), pbx_queue_name=name)
    for agent in agents:
        QueueMembership.objects.get_or_create(organization=org, queue=queue, agent=agent)
    return queue


def left_fact(call_key: str, leg: str, **fields: object) -> te.VoicemailLeft:
    at = fields.pop("at", timezone.now() - timedelta(seconds=30))
    return te.VoicemailLeft(
        call_key=call_key,
        at=at,  # type: ignore[arg-type]
        dedup_key=f"vm:{leg}:{sorted(fields.items())}",
        leg_id=leg,
        **fields,  # type: ignore[arg-type]
    )


def leave_voicemail(
    queue: CallQueue, *, caller: str = "+15557654321", filename: str = ""
) -> Voicemail:
    """A caller of ``queue`` left a message (Asterisk's facts, applied as the bridge does)."""
    call = make_call(queue.organization, queue=queue, caller_number=caller)
    leg = f"{call.external_id}-leg"
    fact = left_fact(call.external_id, leg, mailbox="support@queues", filename=filename)
    telephony_apply(
        organization_id=queue.organization_id, connection_key="asterisk:test", events=[fact]
    )
    return Voicemail.objects.get(
        organization=queue.organization, source=CallSource.ASTERISK, leg_id=leg
    )
