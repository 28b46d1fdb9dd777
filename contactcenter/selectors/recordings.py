"""Reads about recordings: which answered calls the policy records."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import F, Value
from django.db.models.functions import Coalesce, NullIf

from contactcenter.enums import RecordingPolicy, RecordingStatus
from contactcenter.models import Call, CallQueue, Organization, Recording

# A call's recording policy, as a column of its row: its queue's, else (blank, or no
# queue) its organization's.
RECORDING_POLICY = Coalesce(
    NullIf(F("queue__recording_policy"), Value("")), F("organization__recording_policy")
)


def recorded_queues(*, organization_id: int, queues: Sequence[str]) -> dict[str, bool]:
    """For each PBX queue name ("" for a call that came through no queue), whether its
    answered calls are recorded from the start: the queue's policy, else the
    organization's. "On demand" starts nothing by itself."""
    organization_policy = (
        Organization.objects.filter(pk=organization_id)
        .values_list("recording_policy", flat=True)
        .first()
    )
    policies = dict(
        CallQueue.objects.for_organization(organization_id)
        .filter(pbx_queue_name__in=[q for q in queues if q])
        .values_list("pbx_queue_name", "recording_policy")
    )
    return {
        queue: (policies.get(queue) or organization_policy) == RecordingPolicy.ALL
        for queue in queues
    }


def call_recording_policy(*, call: Call) -> str:
    """The policy that applies to ``call`` (``RECORDING_POLICY``, for a call read without
    it): its queue's, else its organization's."""
    annotated = getattr(call, "recording_policy", None)
    if isinstance(annotated, str):
        return annotated
    queue_policy = call.queue.recording_policy if call.queue is not None else ""
    return queue_policy or call.organization.recording_policy


def call_recordings(*, call: Call) -> list[Recording]:
    """A call's recordings, oldest first (the caller has checked it may see the call)."""
    return list(
        Recording.objects.for_organization(call.organization_id)
        .filter(call=call)
        .select_related("agent")
        .order_by("started_at", "id")
    )


def recording_for_media(*, recording_id: int, organization_id: int) -> Recording | None:
    """A stored recording of that organization, or None."""
    return (
        Recording.objects.for_organization(organization_id)
        .filter(pk=recording_id, status=RecordingStatus.DONE)
        .exclude(storage_key="")
        .first()
    )
