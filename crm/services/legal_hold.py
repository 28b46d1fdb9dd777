"""A legal hold on a case: its call's recordings outlive the retention purge
(contactcenter/services/recording_retention.py asks through contactcenter.hooks)."""

from __future__ import annotations

from django.db import transaction

from contactcenter.services import audit
from crm.models import Case


@transaction.atomic
def case_set_legal_hold(*, case: Case, held: bool) -> Case:
    """Put the case under legal hold, or lift it. Audited as ``legal_hold`` (the
    context's actor) when it changes."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    before = audit.snapshot(case, ["legal_hold"])
    if case.legal_hold != held:
        case.legal_hold = held
        case.save(update_fields=["legal_hold", "updated_at"])
        audit.updated(case, before, action="legal_hold")
    return case
