"""Limits on password guessing, shared by every way to sign in (contactcenter.backends).

Two counts of failed sign-ins, independent of each other: per account (the username,
whatever address it is tried from, so rotating addresses does not help) and per client
address (whatever usernames it tries, so spraying one password over many accounts does
not either). Past the free failures (``SIGNIN_FREE_FAILURES`` for an account,
``SIGNIN_ADDRESS_FREE_FAILURES`` for an address, which may be a whole office behind
one NAT) each failure locks that account or address for twice as long as the one
before: ``SIGNIN_LOCK_FIRST_SECONDS``, then double, up to ``SIGNIN_LOCK_MAX_SECONDS``.
While locked, a sign-in is refused without its password being checked, and that
refusal is not counted, so it does not lengthen the lock. The counts are forgotten
once ``SIGNIN_WINDOW_SECONDS`` pass without a failure; a success from an address
clears that address's count.

So an attacker can never lock a real user out for longer than the cap after their last
try, and keeping an account locked costs them a try per cap (12 an hour at the
default 5 minutes) instead of hundreds a second.

The counts live in Django's cache: Redis in production, so every server process sees
the same ones (in-process memory in the one-process default). Usernames are counted
case-folded and hashed (the key's length does not depend on what a client sends).

Every failure is logged (warning), every success too (info): the username made safe to
print, the client address, the path. Never the password.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import unicodedata
from typing import Any

from django.conf import settings
from django.core.cache import cache

from contactcenter.models import Membership
from contactcenter.services import audit

logger = logging.getLogger(__name__)

_LOGGED_USERNAME_CHARS = 64


def client_address(request: Any) -> str | None:
    """The client's address: ``REMOTE_ADDR``, which config/proxy.py has set by the
    trusted-proxy rule. None without a request (a sign-in from code or a test)."""
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR")
    return address if isinstance(address, str) and address else None


def printable_username(username: str) -> str:
    """The username as it may go into a log line: no control characters, bounded."""
    text = "".join(ch if ch.isprintable() else "?" for ch in username[:_LOGGED_USERNAME_CHARS])
    return text + "…" if len(username) > _LOGGED_USERNAME_CHARS else text


def _account(username: str) -> str:
    folded = unicodedata.normalize("NFKC", username).casefold()
    return "u:" + hashlib.sha256(folded.encode("utf-8", "replace")).hexdigest()[:32]


def _subjects(username: str, address: str | None) -> list[tuple[str, int]]:
    """(key part, free failures) of each count this attempt belongs to."""
    subjects = [(_account(username), settings.SIGNIN_FREE_FAILURES)]
    if address is not None:
        subjects.append((f"a:{address}", settings.SIGNIN_ADDRESS_FREE_FAILURES))
    return subjects


def _key(kind: str, subject: str) -> str:
    return f"{settings.SIGNIN_KEY_PREFIX}:{kind}:{subject}"


def lock_seconds(failures: int, free: int) -> int:
    """How long ``failures`` failures lock for: none up to ``free``, then doubling."""
    if failures <= free:
        return 0
    doublings = min(failures - free - 1, 30)  # past 30 the cap has long been reached
    return int(
        min(settings.SIGNIN_LOCK_FIRST_SECONDS * 2**doublings, settings.SIGNIN_LOCK_MAX_SECONDS)
    )


def signin_wait(*, username: str, address: str | None) -> int:
    """Seconds before this username may be tried from this address again (0: now)."""
    keys = [_key("lock", subject) for subject, _ in _subjects(username, address)]
    until = max((float(v) for v in cache.get_many(keys).values()), default=0.0)
    return max(0, math.ceil(until - time.time()))


def _count_failure(subject: str) -> int:
    key, window = _key("fail", subject), settings.SIGNIN_WINDOW_SECONDS
    cache.add(key, 0, timeout=window)
    try:
        failures = int(cache.incr(key))  # atomic in Redis: no two processes count alike
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        failures = 1
    cache.touch(key, window)  # the window runs from the latest failure
    return failures


def signin_failed(*, username: str, address: str | None, path: str) -> int:
    """Count a wrong password (or an unknown or inactive account); lock what is past
    its free failures. Returns the longest lock this failure started (0: none)."""
    counts: dict[str, int] = {}
    locked = 0
    for subject, free in _subjects(username, address):
        failures = _count_failure(subject)
        counts["account_failures" if subject.startswith("u:") else "address_failures"] = failures
        seconds = lock_seconds(failures, free)
        if seconds:
            cache.set(_key("lock", subject), time.time() + seconds, timeout=seconds)
            locked = max(locked, seconds)
    name = printable_username(username)
    _audit_failure(username=username, printable=name, path=path, locked=locked)
    logger.warning(
        "sign-in failed: %s from %s at %s%s",
        name,
        address or "-",
        path or "-",
        f", locked for {locked} s" if locked else "",
        extra={
            "event": "signin.failed",
            "username": name,
            "client_address": address,
            "path": path,
            "locked_seconds": locked,
            **counts,
        },
    )
    return locked


def _audit_failure(*, username: str, printable: str, path: str, locked: int) -> None:
    """A failed sign-in in the audit trail of the organization of the account named
    (none when no account has that name). Tries refused while locked are not recorded:
    the failures that set the lock were."""
    member = (
        Membership.objects.filter(user__username=username)
        .values_list("organization_id", "user_id")
        .first()
    )
    audit.record(
        action="signin_failed",
        organization_id=member[0] if member else None,
        object_type="contactcenter.user" if member else "",
        object_id=member[1] if member else None,
        details={"username": printable, "path": path, "locked_seconds": locked},
    )


def signin_refused(*, username: str, address: str | None, path: str, wait: int) -> None:
    """A try while locked: not counted, and only at debug level (a flood of them must
    not flood the log; the failures that set the lock were logged)."""
    logger.debug(
        "sign-in refused: %s from %s at %s, locked for %s s more",
        printable_username(username),
        address or "-",
        path or "-",
        wait,
        extra={"event": "signin.locked", "client_address": address, "wait_seconds": wait},
    )


def signin_succeeded(*, user: Any, username: str, address: str | None, path: str) -> None:
    """A right password: the address's failures are forgiven (the account's are not:
    they may come from elsewhere, and they expire with their window)."""
    if address is not None:
        subject = f"a:{address}"
        cache.delete_many([_key("fail", subject), _key("lock", subject)])
    name = printable_username(username)
    member = Membership.objects.filter(user_id=user.pk).values_list("organization_id").first()
    audit.record(
        action="signin",
        organization_id=member[0] if member else None,
        obj=user,
        details={"path": path},
        actor=audit.actor_as(user),
    )
    logger.info(
        "sign-in: %s (user %s) from %s at %s",
        name,
        user.pk,
        address or "-",
        path or "-",
        extra={
            "event": "signin.succeeded",
            "username": name,
            "user_id": user.pk,
            "client_address": address,
            "path": path,
        },
    )


def too_many_message(wait: int) -> str:
    return (
        "Too many failed sign-ins for this account or from this address. "
        f"Try again in {wait} seconds."
    )
