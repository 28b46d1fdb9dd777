"""Legal holds: which calls' recordings must be kept (contactcenter.hooks.recordings_held)."""

from __future__ import annotations

from collections.abc import Collection

from crm.models import Case


def calls_on_legal_hold(*, organization_id: int, call_ids: Collection[int]) -> set[int]:
    """Those of ``call_ids`` that are the call of a case under legal hold (in the trash
    or not: a hold outlives the case's deletion until it is lifted)."""
    return set(
        Case.all_objects.filter(
            organization_id=organization_id, legal_hold=True, source_call_id__in=list(call_ids)
        ).values_list("source_call_id", flat=True)
    )
