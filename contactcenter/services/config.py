"""Writes for plain configuration rows (queues, queue members, dispositions).

These rows have no side effects and no state machine, so one create/update/delete
path serves them all; what each needs is the model's own validation (including the
per-organization unique constraints, which ``full_clean`` checks) and a clear error
instead of a database exception. Rows with behaviour get services of their own.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError

from contactcenter.errors import ApplicationError
from contactcenter.models import Organization
from contactcenter.services import audit

_M = TypeVar("_M", bound=models.Model)


def _save(instance: _M, before: dict[str, Any] | None = None) -> _M:
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
            if before is None:
                audit.created(instance)
            else:
                audit.updated(instance, before)
    except IntegrityError as exc:  # a concurrent writer won the unique constraint
        raise ApplicationError(
            "This conflicts with an existing record.", code="conflict", status=409
        ) from exc
    return instance


def config_row_create(*, model: type[_M], organization: Organization, values: dict[str, Any]) -> _M:
    instance = model(organization=organization, **values)
    return _save(instance)


def config_row_update(*, instance: _M, values: dict[str, Any]) -> _M:
    before = audit.snapshot(instance)
    for field, value in values.items():
        setattr(instance, field, value)
    return _save(instance, before)


def config_row_delete(*, instance: models.Model) -> None:
    try:
        with transaction.atomic():
            audit.deleted(instance)
            instance.delete()
    except ProtectedError as exc:
        raise ApplicationError(
            "This record is in use by calls; deactivate it instead.",
            code="protected",
            status=409,
        ) from exc
