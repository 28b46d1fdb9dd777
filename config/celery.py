"""The Celery app. Eager in the one-process default, on Redis when REDIS_URL is set."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("contactcenter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# The audit trail's actor while a task runs: the scheduled job, by its name
# (contactcenter/services/audit.py). Reset after, so an eager task run inside a request
# gives the request its actor back.
_audit_tokens: dict[str, object] = {}


@task_prerun.connect
def _audit_actor_set(task_id: str | None = None, task: object = None, **_: object) -> None:
    from contactcenter.services import audit

    name = getattr(task, "name", "") or "task"
    _audit_tokens[task_id or ""] = audit.set_actor(audit.Actor.job(name))


@task_postrun.connect
def _audit_actor_reset(task_id: str | None = None, **_: object) -> None:
    from contactcenter.services import audit

    token = _audit_tokens.pop(task_id or "", None)
    if token is not None:
        audit.reset_actor(token)  # type: ignore[arg-type]
