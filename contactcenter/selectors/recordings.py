"""Reads about recordings: the policy that applies to a call, and its recordings."""

from __future__ import annotations

from django.db.models import F, Value
from django.db.models.functions import Coalesce, NullIf

from contactcenter.enums import RecordingStatus
from contactcenter.models import Call, Recording

# A call's recording policy, as a column of its row: its queue's, else (blank, or no
# queue) its organization's.
RECORDING_POLICY = Coalesce(
    NullIf(F("queue__recording_policy"), Value("")), F("organization__recording_policy")
)


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
