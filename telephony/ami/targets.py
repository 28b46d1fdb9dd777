"""Which AMI connections the bridge opens: the enabled AsteriskConnection records, plus
the one named by ``AMI_URL`` (``ami://user:secret@host:port``) for the single-PBX case.

Connection keys: ``asterisk:<pk>`` for a record, ``asterisk:env`` for AMI_URL.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from contactcenter.models import Organization
from telephony.ami.bridge import BridgeTarget
from telephony.ami.client import AmiEndpoint
from telephony.models import AsteriskConnection

ENV_CONNECTION = "asterisk:env"


def record_connection_key(record_pk: int) -> str:
    return f"asterisk:{record_pk}"


def parse_ami_url(url: str) -> AmiEndpoint:
    parts = urlsplit(url)
    if parts.scheme != "ami" or not parts.hostname or not parts.username:
        raise ImproperlyConfigured("AMI_URL must look like ami://user:secret@host:5038")
    return AmiEndpoint(
        host=parts.hostname,
        port=parts.port or 5038,
        username=unquote(parts.username),
        secret=unquote(parts.password or ""),
    )


def env_organization(organization_slug: str = "") -> Organization | None:
    """The organization AMI_URL's calls belong to: AMI_ORGANIZATION, or the only one."""
    if organization_slug:
        return Organization.objects.filter(slug=organization_slug).first()
    organizations = list(Organization.objects.filter(is_active=True)[:2])
    return organizations[0] if len(organizations) == 1 else None


def env_target(url: str, organization_slug: str = "") -> BridgeTarget:
    """The AMI_URL connection and the organization it is bound to."""
    endpoint = parse_ami_url(url)
    organization = env_organization(organization_slug)
    if organization is None:
        raise ImproperlyConfigured(
            f"AMI_ORGANIZATION={organization_slug!r}: no such slug."
            if organization_slug
            else "AMI_URL needs AMI_ORGANIZATION when there is not exactly one organization."
        )
    return BridgeTarget(
        endpoint=endpoint, organization_id=organization.pk, connection_key=ENV_CONNECTION
    )


def record_targets() -> list[BridgeTarget]:
    return [
        BridgeTarget(
            endpoint=AmiEndpoint(host=c.host, port=c.port, username=c.username, secret=c.secret),
            organization_id=c.organization_id,
            connection_key=record_connection_key(c.pk),
        )
        for c in AsteriskConnection.objects.filter(is_enabled=True, organization__is_active=True)
    ]
