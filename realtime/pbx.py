"""Which PBX connection serves an organization's consoles (for commands with no call).

The connection keys are the bridge's (telephony/ami/targets.py): ``asterisk:<pk>`` for
an enabled AsteriskConnection record, ``asterisk:env`` for ``AMI_URL``. A command about
a call goes to the connection that reported the call (``Call.connection_key``).
"""

from __future__ import annotations

from django.conf import settings

from contactcenter.models import Organization
from telephony.models import AsteriskConnection

ASTERISK_PREFIX = "asterisk:"


def organization_pbx(organization_id: int) -> str | None:
    """The organization's first enabled Asterisk connection, else AMI_URL's if bound to it."""
    record = (
        AsteriskConnection.objects.for_organization(organization_id)
        .filter(is_enabled=True)
        .order_by("pk")
        .first()
    )
    if record is not None:
        return f"{ASTERISK_PREFIX}{record.pk}"
    if settings.AMI_URL and _env_organization_id() == organization_id:
        return f"{ASTERISK_PREFIX}env"
    return None


def _env_organization_id() -> int | None:
    # The same binding rule as telephony.ami.targets.env_target, without its errors.
    if settings.AMI_ORGANIZATION:
        org = Organization.objects.filter(slug=settings.AMI_ORGANIZATION).first()
        return org.pk if org else None
    active = list(Organization.objects.filter(is_active=True).values_list("pk", flat=True)[:2])
    return active[0] if len(active) == 1 else None


def reaches_bridge(connection_key: str) -> bool:
    """Only the AMI bridge listens for console commands; Twilio calls are not reachable."""
    return connection_key.startswith(ASTERISK_PREFIX)
