"""Celery tasks of the crm: thin, they take ids and call one service.

Every task is idempotent (the services are), so a re-delivery (acks_late, a worker
lost mid-task) or a retry is harmless. A transient database error (connection lost,
failover, serialization) is retried with exponential backoff; what still fails is
logged at ERROR with the task's ids on the ``crm.tasks`` logger, where an operator's
log collection sees it.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from crm.services.dispositions import call_disposition_apply as _apply_rules
from crm.services.emails import email_send as _send_email
from crm.services.overdue import case_overdue_mark
from crm.services.trash import trash_purge as _purge_trash

logger = logging.getLogger(__name__)

OVERDUE_BATCH = 500
TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)


class LoggedTask(Task[Any, Any]):
    """Says in the log, with the ids, when a task is retried and when it gives up."""

    def on_retry(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        logger.warning(
            "task %s retrying (args=%r kwargs=%r id=%s): %s", self.name, args, kwargs, task_id, exc
        )

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        logger.error(
            "task %s failed (args=%r kwargs=%r id=%s): %s",
            self.name,
            args,
            kwargs,
            task_id,
            exc,
            exc_info=(type(exc), exc, exc.__traceback__),
        )


@shared_task(
    name="crm.call_disposition_apply",
    base=LoggedTask,
    autoretry_for=TRANSIENT_DB_ERRORS,
    retry_backoff=2,  # 2 s, 4 s, 8 s ... up to 5 min, with jitter
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def call_disposition_apply(call_id: int, disposition_id: int | None) -> dict[str, Any]:
    """The organization's rules for a call's disposition (crm.services.dispositions)."""
    result = _apply_rules(call_id=call_id, disposition_id=disposition_id)
    logger.info(
        "disposition rules for call %s (disposition %s): %s", call_id, disposition_id, result
    )
    return {
        "case_id": result.case_id,
        "case_created": result.case_created,
        "follow_up_id": result.follow_up_id,
        "follow_up_created": result.follow_up_created,
        "skipped": result.skipped,
    }


# The beat's sweeps: retried on a transient database error, a few times, soon.
PERIODIC: dict[str, Any] = {
    "base": LoggedTask,
    "autoretry_for": TRANSIENT_DB_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}


class EmailNotSent(Exception):
    """The mail backend refused or could not be reached; the task retries."""


@shared_task(
    name="crm.email_send",
    base=LoggedTask,
    autoretry_for=(*TRANSIENT_DB_ERRORS, EmailNotSent),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=6,
)
def email_send(email_id: int) -> bool:
    """Send one outbox e-mail; True when it was sent now or before."""
    error = _send_email(email_id=email_id)
    if error is not None:
        raise EmailNotSent(error)
    return True


@shared_task(name="crm.cases_mark_overdue", **PERIODIC)
def cases_mark_overdue() -> int:
    """Periodic (beat): flag overdue cases and tell their owners, in batches."""
    total = 0
    while True:  # one transaction per batch: a long backlog never holds locks for long
        flagged = case_overdue_mark(limit=OVERDUE_BATCH)
        total += len(flagged)
        if len(flagged) < OVERDUE_BATCH:
            break
    if total:
        logger.info("flagged %s overdue case(s)", total)
    return total


@shared_task(name="crm.trash_purge", **PERIODIC)
def trash_purge() -> int:
    """Periodic (beat): delete for good what has been in the trash past its days."""
    purged = _purge_trash()
    if purged:
        logger.info("purged %s row(s) from the trash", purged)
    return purged
