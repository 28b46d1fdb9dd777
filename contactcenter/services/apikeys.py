"""API keys: made, rotated and revoked by organization admins; checked on each request.

* A key is ``<prefix>.<secret>``: the prefix (``cck_`` and 12 hex digits) finds the
  row, the secret (256 random bits) is compared by its SHA-256 in constant time. The
  whole key is returned once, by ``api_key_create`` and ``api_key_rotate``; the
  database keeps the prefix and the hash only.
* A key acts as a member of its organization with its role (admin or supervisor) for
  reads, and writes only to the resources it lists (``write_resources``: the path
  segment after /api/v1/, such as ``contacts``); none, it is read-only.
* It stops working when it expires, when it is revoked, and (its old secret) when it
  is rotated.
* Use is written down without a write per request: ``last_used_at`` and
  ``last_used_address`` at most once per ``API_KEY_TOUCH_SECONDS`` (a conditional
  UPDATE, so concurrent requests write it once), and an audit entry ``api_key.use``
  for the first use and for each use from an address other than the last one.

Creating, rotating and revoking are audited as ``create``, ``rotate`` and ``revoke`` of
the key (never its secret).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from contactcenter.enums import Role
from contactcenter.errors import ApplicationError
from contactcenter.models import APIKey, Organization, User
from contactcenter.services import audit

PREFIX_START = "cck_"
_PREFIX_HEX = 6  # bytes: 12 hex digits
_PREFIX_SHAPE = re.compile(rf"{PREFIX_START}[0-9a-f]{{{2 * _PREFIX_HEX}}}")
_SECRET_BYTES = 32
KEY_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR})
_AUDITED_FIELDS = ["name", "role", "write_resources", "expires_at"]


@dataclass(frozen=True)
class IssuedKey:
    """A key and its full text, which exists only in this answer."""

    api_key: APIKey
    key: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret(api_key: APIKey) -> str:
    """Give ``api_key`` a new prefix and secret (unsaved); return the whole key."""
    api_key.prefix = PREFIX_START + secrets.token_hex(_PREFIX_HEX)
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    api_key.key_hash = _hash(secret)
    return f"{api_key.prefix}.{secret}"


def writable_resources() -> frozenset[str]:
    """The resources a key may be given write access to: the REST API's first path
    segments (from the URLconf, so a new endpoint is one at once)."""
    from contactcenter.api.apikeys_auth import api_resources

    return api_resources()


def _clean(
    *, name: str, role: str, write_resources: list[str], expires_at: datetime | None
) -> tuple[str, list[str]]:
    name = name.strip()
    if not name:
        raise ApplicationError("A key needs a name.", field="name", code="required")
    if role not in KEY_ROLES:
        raise ApplicationError(
            f'"{role}" is not a valid choice (admin or supervisor).',
            field="role",
            code="invalid_choice",
        )
    if not isinstance(write_resources, list) or not all(
        isinstance(r, str) for r in write_resources
    ):
        raise ApplicationError("A list of resource names.", field="write_resources")
    known = writable_resources()
    unknown = sorted(set(write_resources) - known)
    if unknown:
        raise ApplicationError(
            f"Unknown resources: {', '.join(unknown)}. Known: {', '.join(sorted(known))}.",
            field="write_resources",
            code="invalid_choice",
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError("The expiry must be in the future.", field="expires_at")
    return name, sorted(set(write_resources))


@transaction.atomic
def api_key_create(
    *,
    organization: Organization,
    name: str,
    role: str = Role.SUPERVISOR,
    write_resources: list[str] | None = None,
    expires_at: datetime | None = None,
    created_by: User | None = None,
) -> IssuedKey:
    name, resources = _clean(
        name=name, role=role, write_resources=write_resources or [], expires_at=expires_at
    )
    api_key = APIKey(
        organization=organization,
        name=name,
        role=role,
        write_resources=resources,
        expires_at=expires_at,
        created_by=created_by,
    )
    key = _new_secret(api_key)
    api_key.save()
    audit.record(
        action="create",
        organization_id=organization.pk,
        obj=api_key,
        changes=audit.snapshot(api_key, [*_AUDITED_FIELDS, "prefix"]),
    )
    return IssuedKey(api_key=api_key, key=key)


@transaction.atomic
def api_key_update(
    *,
    api_key: APIKey,
    name: str | None = None,
    role: str | None = None,
    write_resources: list[str] | None = None,
    expires_at: datetime | object | None = ...,
) -> APIKey:
    """Change a key's name, role, resources or expiry (``expires_at=None`` clears it)."""
    locked = APIKey.objects.select_for_update().get(pk=api_key.pk)
    before = audit.snapshot(locked, _AUDITED_FIELDS)
    new_expiry = locked.expires_at if expires_at is ... else expires_at
    assert new_expiry is None or isinstance(new_expiry, datetime)
    clean_name, resources = _clean(
        name=locked.name if name is None else name,
        role=locked.role if role is None else role,
        write_resources=locked.write_resources if write_resources is None else write_resources,
        expires_at=new_expiry if new_expiry != locked.expires_at else None,
    )
    locked.name, locked.write_resources, locked.expires_at = clean_name, resources, new_expiry
    if role is not None:
        locked.role = role
    locked.save(update_fields=_AUDITED_FIELDS)
    diff = audit.changed(before, audit.snapshot(locked, _AUDITED_FIELDS))
    if diff:
        audit.record(
            action="update", organization_id=locked.organization_id, obj=locked, changes=diff
        )
    return locked


@transaction.atomic
def api_key_rotate(*, api_key: APIKey) -> IssuedKey:
    """A new secret (and prefix) for the key; the old one stops working now."""
    locked = APIKey.objects.select_for_update().get(pk=api_key.pk)
    if locked.revoked_at is not None:
        raise ApplicationError("A revoked key cannot be rotated.", code="revoked", status=409)
    old_prefix = locked.prefix
    key = _new_secret(locked)
    locked.rotated_at = timezone.now()
    locked.save(update_fields=["prefix", "key_hash", "rotated_at"])
    audit.record(
        action="rotate",
        organization_id=locked.organization_id,
        obj=locked,
        changes={"prefix": [old_prefix, locked.prefix]},
    )
    return IssuedKey(api_key=locked, key=key)


@transaction.atomic
def api_key_revoke(*, api_key: APIKey) -> APIKey:
    """Stop the key for good (revoking twice changes nothing)."""
    locked = APIKey.objects.select_for_update().get(pk=api_key.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit.record(action="revoke", organization_id=locked.organization_id, obj=locked)
    return locked


def api_key_authenticate(key: str) -> APIKey | None:
    """The live key this text is, or None (unknown, wrong secret, revoked, expired,
    of an inactive organization). One indexed read."""
    prefix, dot, secret = key.partition(".")
    # The prefix is looked up: only the shape api_key_create makes (no NUL, which the
    # database would refuse with an error, nor anything else a client makes up).
    if not dot or not _PREFIX_SHAPE.fullmatch(prefix) or not secret:
        return None
    now = timezone.now()
    api_key = (
        APIKey.objects.select_related("organization")
        .filter(prefix=prefix, revoked_at__isnull=True, organization__is_active=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )
    if api_key is None or not hmac.compare_digest(api_key.key_hash, _hash(secret)):
        return None
    return api_key


def api_key_touch(*, api_key: APIKey, address: str | None, now: datetime | None = None) -> bool:
    """Note a use: last-used time and address at most once per ``API_KEY_TOUCH_SECONDS``
    (sooner when the address changed), with an ``api_key.use`` audit entry on the first
    use and on a new address. Returns whether anything was written."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.API_KEY_TOUCH_SECONDS)
    new_address = address != api_key.last_used_address
    if api_key.last_used_at is not None and api_key.last_used_at > stale and not new_address:
        return False
    with transaction.atomic():
        rows = APIKey.objects.filter(pk=api_key.pk)
        condition = Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
        if address is None:
            condition |= Q(last_used_address__isnull=False)
        else:
            condition |= ~Q(last_used_address=address) | Q(last_used_address__isnull=True)
        written = rows.filter(condition).update(last_used_at=now, last_used_address=address)
        if written and (new_address or api_key.last_used_at is None):
            details: dict[str, Any] = {"address": address}
            if api_key.last_used_address is not None:
                details["previous_address"] = api_key.last_used_address
            audit.record(
                action="api_key.use",
                organization_id=api_key.organization_id,
                obj=api_key,
                details=details,
            )
    api_key.last_used_at, api_key.last_used_address = now, address
    return bool(written)
