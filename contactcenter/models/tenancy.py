from __future__ import annotations

import zoneinfo

import phonenumbers
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.crypto import salted_hmac

from contactcenter.enums import RecordingPolicy, Role


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone.")


def validate_region(value: str) -> None:
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(f"{value!r} is not a supported ISO 3166 region code.")


class Organization(models.Model):
    """A tenant. Its time zone defines "today" for wallboards and reports."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # Region used to read phone numbers written in national format ("(555) 765-4321").
    default_region = models.CharField(max_length=2, default="US", validators=[validate_region])
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Days its audit entries are kept (the purge job); blank: AUDIT_RETENTION_DAYS.
    audit_retention_days = models.PositiveIntegerField(null=True, blank=True)
    # Which answered calls the bridge records (a queue may say otherwise).
    recording_policy = models.CharField(
        max_length=16, choices=RecordingPolicy.choices, default=RecordingPolicy.NONE
    )
    # Days a recording is kept (the retention purge); blank: kept until erased.
    recording_retention_days = models.PositiveIntegerField(null=True, blank=True)
    # Whether an agent's console shows a supervisor whispering to them or barging into
    # their call (never one only listening): docs/supervisor.md.
    agents_see_monitoring = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """The project's user from the first migration, so it can grow without a swap."""

    # Raised by contactcenter.services.sessions.user_revoke_sessions: the user's JWTs
    # carry the value they were issued under, and it is part of the session hash, so
    # raising it ends every token, session and ticket issued before.
    auth_epoch = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["username"]

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django's HMAC of the password hash, with the epoch once it was ever raised
        # (sessions from before epochs existed stay valid until the first revocation).
        if not self.auth_epoch:
            return super()._get_session_auth_hash(secret=secret)  # type: ignore[misc]
        return salted_hmac(
            "contactcenter.User.get_session_auth_hash",
            f"{self.password}:{self.auth_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class Membership(models.Model):
    """A user's place in one organization, with one role.

    A user belongs to exactly one organization: the REST and WebSocket scoping takes
    the caller's organization from here, with no ambiguity.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="membership")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization_id", "user_id"]
        indexes = [models.Index(fields=["organization", "role"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"
