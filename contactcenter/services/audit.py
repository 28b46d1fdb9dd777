"""The audit trail's one way in: ``record`` / ``record_many`` (models/audit.py).

Every service that writes calls ``record`` in its transaction, so an entry exists
exactly when the write does (a rolled-back write leaves none). Who acted is not a
parameter the services pass around: it is the *actor* of the context, set once by
the edge that started the work:

* a web request: ``contactcenter.middleware.AuditContextMiddleware`` (the signed-in
  user or the API key of the request, read when an entry is recorded, so DRF's
  authentication, which runs after the middleware, is seen; the request id and the
  client's address);
* the PBX bridge and the Twilio webhooks: ``Actor.pbx(connection_key)``;
* a Celery task: ``Actor.job(task name)`` (config/celery.py's task signals);
* anything else (a management command, a shell): ``Actor.system()``, unless it sets
  its own with ``acting(...)``.

Field values are JSON-safe copies; secrets are always redacted, personal fields as
configured (``AUDIT_REDACTED_FIELDS``). ``changed(before, after)`` turns two
``snapshot`` dicts into the ``{field: [before, after]}`` the entry stores. An entry
is never changed after, but by a contact's erasure (audit_erasure.py).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
import functools
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone

from config.fields import EncryptedTextField
from contactcenter.models.apikeys import APIKey
from contactcenter.models.audit import ActorKind, AuditEntry

REDACTED = "[redacted]"

# Never stored, whatever the configuration says: what would let someone act as another.
SECRET_FIELDS = frozenset(
    {
        "password",
        "secret",
        "sip_password",
        "auth_token",
        "api_key_secret",
        "key_hash",
        "token",
        "token_hash",
        "cel_password",
        # A database URL may carry its password.
        "cel_url",
    }
)

# Values kept at most this long in an entry (a long description is summarized).
_MAX_TEXT = 500


@dataclass(frozen=True)
class Actor:
    """Who acts. ``request`` (a Django HttpRequest) is read when an entry is recorded:
    its ``user`` and ``auth`` are set by then (DRF sets both on the HttpRequest)."""

    kind: str
    user_id: int | None = None
    api_key_id: int | None = None
    label: str = ""
    request_id: str = ""
    client_address: str | None = None
    request: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def system(cls, label: str = "") -> Actor:
        return cls(kind=ActorKind.SYSTEM, label=label)

    @classmethod
    def pbx(cls, connection_key: str) -> Actor:
        return cls(kind=ActorKind.PBX, label=connection_key[:200])

    @classmethod
    def job(cls, name: str) -> Actor:
        return cls(kind=ActorKind.JOB, label=name[:200])

    @classmethod
    def for_user(cls, user: Any, **extra: Any) -> Actor:
        return cls(kind=ActorKind.USER, user_id=user.pk, label=user.get_username()[:200], **extra)

    @classmethod
    def for_request(cls, request: Any, *, request_id: str, client_address: str | None) -> Actor:
        return cls(
            kind=ActorKind.ANONYMOUS,
            request_id=request_id,
            client_address=client_address,
            request=request,
        )

    def resolved(self) -> Actor:
        """This actor with the request's user or API key filled in, if it has a request."""
        request = self.request
        if request is None:
            return self
        key = getattr(request, "auth", None)
        if isinstance(key, APIKey):
            return replace(
                self,
                kind=ActorKind.API_KEY,
                api_key_id=key.pk,
                label=f"API key {key.prefix} ({key.name})"[:200],
                request=None,
            )
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False) and user.pk:
            return replace(
                self,
                kind=ActorKind.USER,
                user_id=user.pk,
                label=user.get_username()[:200],
                request=None,
            )
        return replace(self, request=None)


_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("audit_actor", default=None)


def current_actor() -> Actor:
    """The context's actor, resolved; ``Actor.system()`` when nothing set one."""
    actor = _actor.get()
    return actor.resolved() if actor is not None else Actor.system()


def actor_as(user: Any) -> Actor:
    """The context's request (its id and address) acting as ``user``: a person who has
    just proved who they are (a sign-in, an accepted invitation)."""
    base = current_actor()
    return Actor.for_user(user, request_id=base.request_id, client_address=base.client_address)


@contextlib.contextmanager
def acting(actor: Actor) -> Iterator[Actor]:
    """Make ``actor`` the context's actor for the block (nested blocks restore)."""
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def set_actor(actor: Actor | None) -> contextvars.Token[Actor | None]:
    """For edges that cannot wrap their work in a block (Celery's task signals)."""
    return _actor.set(actor)


def reset_actor(token: contextvars.Token[Actor | None]) -> None:
    _actor.reset(token)


def new_request_id() -> str:
    return uuid.uuid4().hex


# --- Values ---------------------------------------------------------------------------


def _redacted_names() -> frozenset[str]:
    configured = getattr(settings, "AUDIT_REDACTED_FIELDS", ())
    return SECRET_FIELDS | frozenset(configured)


def is_redacted(object_type: str, name: str) -> bool:
    """Whether a field's values are left out: a secret anywhere (by name, or any field
    stored encrypted), or a configured name, either bare (``email``) or qualified by the
    object type (``crm.contact.email``)."""
    names = _redacted_names()
    return name in names or f"{object_type}.{name}" in names or _encrypted(object_type, name)


@functools.lru_cache(maxsize=1024)
def _encrypted(object_type: str, name: str) -> bool:
    try:
        field = apps.get_model(object_type)._meta.get_field(name)
    except (LookupError, ValueError, FieldDoesNotExist):
        return False
    return isinstance(field, EncryptedTextField)


def json_value(value: Any) -> Any:
    """A JSON-safe copy of a field value (model instances by pk, times in ISO 8601)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= _MAX_TEXT else value[:_MAX_TEXT] + "…"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_value(v) for v in value]
    return str(value)


def object_type_of(obj: models.Model | type[models.Model]) -> str:
    """``app_label.model``: ``crm.contact``, ``contactcenter.call``."""
    return obj._meta.label_lower


def label_of(obj: models.Model) -> str:
    """How an entry names its object: its text, unless the model holds redacted
    (personal) fields, whose values its text may show (a contact's name): then its
    kind and id. A user by username."""
    get_username = getattr(obj, "get_username", None)
    if callable(get_username):
        return str(get_username())[:200]
    object_type = object_type_of(obj)
    personal = frozenset(getattr(settings, "AUDIT_REDACTED_FIELDS", ()))
    names = {n for f in obj._meta.concrete_fields for n in (f.name, f"{object_type}.{f.name}")}
    if names & personal:
        return f"{obj._meta.verbose_name} #{obj.pk}"[:200]
    return str(obj)[:200]


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The object's concrete field values (foreign keys by id), JSON-safe, by field
    name; only ``fields`` when given. Taken before and after a change."""
    values: dict[str, Any] = {}
    wanted = set(fields) if fields is not None else None
    for f in obj._meta.concrete_fields:
        if f.primary_key or (wanted is not None and f.name not in wanted):
            continue
        values[f.name] = json_value(getattr(obj, f.attname))
    return values


def changed(
    before: Mapping[str, Any], after: Mapping[str, Any], *, object_type: str = ""
) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for each field whose value differs (a field only
    one side has counts as None on the other); redacted fields show that they changed,
    not their values."""
    result: dict[str, list[Any]] = {}
    for name in sorted(set(before) | set(after), key=str):
        old, new = json_value(before.get(name)), json_value(after.get(name))
        if old == new:
            continue
        if name in {"updated_at"}:  # every save moves it: noise, not a change
            continue
        result[name] = [REDACTED, REDACTED] if is_redacted(object_type, name) else [old, new]
    return result


def _redact_values(object_type: str, values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: REDACTED if is_redacted(object_type, name) else json_value(value)
        for name, value in values.items()
    }


# --- Recording ------------------------------------------------------------------------


@dataclass
class Entry:
    """One entry to record (``record_many`` takes several, e.g. a batch's)."""

    action: str
    organization_id: int | None
    object_type: str = ""
    object_id: str | int | None = ""
    object_label: str = ""
    changes: Mapping[str, Any] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    at: dt.datetime | None = None


def _row(entry: Entry, actor: Actor, now: dt.datetime) -> AuditEntry:
    return AuditEntry(
        organization_id=entry.organization_id,
        at=entry.at or now,
        actor_kind=actor.kind,
        actor_user_id=actor.user_id,
        actor_api_key_id=actor.api_key_id,
        actor_label=actor.label[:200],
        action=entry.action[:64],
        object_type=entry.object_type[:64],
        object_id="" if entry.object_id is None else str(entry.object_id)[:64],
        object_label=entry.object_label[:200],
        changes=json_value(dict(entry.changes)),
        details=_redact_values(entry.object_type, entry.details),
        request_id=actor.request_id[:64],
        client_address=actor.client_address,
    )


def record(
    *,
    action: str,
    organization_id: int | None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int | None = None,
    object_label: str = "",
    changes: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    actor: Actor | None = None,
) -> AuditEntry:
    """Record one entry (one INSERT, in the caller's transaction).

    ``obj`` gives the object type, id and label at once; ``changes`` is what
    ``changed`` returns (or a ``snapshot`` of a created or deleted object, which is
    redacted here). The actor is the context's unless given.
    """
    if obj is not None:
        object_type = object_type or object_type_of(obj)
        object_id = obj.pk if object_id is None else object_id
        object_label = object_label or label_of(obj)
    row = _row(
        Entry(
            action=action,
            organization_id=organization_id,
            object_type=object_type,
            object_id=object_id,
            object_label=object_label,
            changes=_changes_redacted(object_type, changes or {}),
            details=details or {},
        ),
        (actor or _actor.get() or Actor.system()).resolved(),
        timezone.now(),
    )
    row.save(force_insert=True)
    return row


def _changes_redacted(object_type: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Redact whatever the caller passed: ``[before, after]`` pairs or plain values."""
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if is_redacted(object_type, name):
            out[name] = [REDACTED, REDACTED] if isinstance(value, list | tuple) else REDACTED
        else:
            out[name] = json_value(value)
    return out


def rows_for(entries: Sequence[Entry], *, actor: Actor | None = None) -> list[AuditEntry]:
    """Unsaved rows for ``entries`` (the caller inserts them with its own bulk path)."""
    who = (actor or _actor.get() or Actor.system()).resolved()
    now = timezone.now()
    return [
        _row(replace(e, changes=_changes_redacted(e.object_type, e.changes)), who, now)
        for e in entries
    ]


def record_many(entries: Sequence[Entry], *, actor: Actor | None = None) -> list[AuditEntry]:
    """Record several entries in one INSERT."""
    rows = rows_for(entries, actor=actor)
    if rows:
        AuditEntry.objects.bulk_create(rows)
    return rows


def export_recorded(
    *, organization_id: int, object_type: str, query: Mapping[str, Any]
) -> AuditEntry:
    """Someone downloaded a list (a CSV export): which list, with which query. A search
    text and a filter on a redacted field (a number, a name) are redacted like the
    fields: they are what someone looked for, often a person."""
    return record(
        action="export",
        organization_id=organization_id,
        object_type=object_type,
        details={
            "query": {
                name: REDACTED if name == "search" or is_redacted(object_type, name) else value
                for name, value in query.items()
            }
        },
    )


# --- The common shapes: created, updated, deleted ---------------------------------------


def _organization_of(obj: models.Model) -> int | None:
    if obj._meta.label_lower == "contactcenter.organization":
        return int(obj.pk)
    value = getattr(obj, "organization_id", None)
    return int(value) if value is not None else None


def created(
    obj: models.Model,
    *,
    fields: Iterable[str] | None = None,
    action: str = "create",
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """A new object, with its field values as the changes (redacted as configured)."""
    return record(
        action=action,
        organization_id=_organization_of(obj),
        obj=obj,
        changes=snapshot(obj, fields),
        details=details,
    )


def updated(
    obj: models.Model,
    before: Mapping[str, Any],
    *,
    action: str = "update",
    details: Mapping[str, Any] | None = None,
) -> AuditEntry | None:
    """A changed object: ``before`` is its ``snapshot`` from before the change (the same
    fields are compared). Nothing is recorded when nothing changed."""
    diff = changed(before, snapshot(obj, before.keys()), object_type=object_type_of(obj))
    if not diff and details is None:
        return None
    return record(
        action=action,
        organization_id=_organization_of(obj),
        obj=obj,
        changes=diff,
        details=details,
    )


def deleted(
    obj: models.Model, *, action: str = "delete", details: Mapping[str, Any] | None = None
) -> AuditEntry:
    """An object about to be deleted (call before ``delete()``, which clears its pk)."""
    return record(
        action=action,
        organization_id=_organization_of(obj),
        obj=obj,
        changes=snapshot(obj),
        details=details,
    )
