"""Which AMI connections the bridge opens: the enabled AsteriskConnection records, plus
the one named by ``AMI_URL`` (``ami://user:secret@host:port``) for the single-PBX case.

Connection keys: ``asterisk:<pk>`` for a record, ``asterisk:env`` for AMI_URL. A key is
unique within its organization only (each bridge started with its own AMI_URL has
``asterisk:env``): whatever addresses a bridge names the organization too
(telephony.pbx.pbx_group).

AMI_URL is the operator's and trusted. A record is a tenant's: one whose fields would
not pass validation today (a row written before the validators, or around them) is not
opened, and its target is checked against the operator's policy (telephony/egress.py)
here and again before every connect.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError

from contactcenter.models import Organization
from telephony.ami.client import AmiEndpoint
from telephony.ami.parties import Parties
from telephony.cel.source import CelSource, source_of_record, source_of_settings
from telephony.egress import TargetRefused, check_target
from telephony.models import AsteriskConnection

logger = logging.getLogger(__name__)

ENV_CONNECTION = "asterisk:env"


@dataclass(frozen=True)
class BridgeTarget:
    """Which PBX, and whose: the organization its calls belong to.

    ``trusted``: the operator named this endpoint (AMI_URL); else it came from a tenant's
    record and is checked against the operator's policy at every connect. ``cel``: where
    the PBX logs its calls, read after every reconnect (telephony/cel/), if configured.
    ``parties``: which of its channels are trunks (the calls' direction).
    """

    endpoint: AmiEndpoint
    organization_id: int
    connection_key: str
    trusted: bool = False
    cel: CelSource | None = None
    parties: Parties = field(default_factory=Parties)


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
        endpoint=endpoint,
        organization_id=organization.pk,
        connection_key=ENV_CONNECTION,
        trusted=True,
        cel=source_of_settings(settings),
    )


def record_targets() -> list[BridgeTarget]:
    """The enabled records the bridge may open; each refused one is logged and skipped."""
    records = AsteriskConnection.objects.filter(is_enabled=True, organization__is_active=True)
    return [target for record in records if (target := _record_target(record)) is not None]


def _record_target(record: AsteriskConnection) -> BridgeTarget | None:
    key = record_connection_key(record.pk)
    try:
        # Field validators first: the host is not looked up, nor logged, before it passed.
        record.clean_fields(exclude=["organization"])
        check_target(record.host, record.port)
    except ValidationError as exc:
        logger.warning("AMI %s: not opened, invalid %s", key, ", ".join(exc.message_dict))
        return None
    except TargetRefused as exc:
        if exc.resolvable:
            logger.warning("AMI %s: not opened: %s", key, exc)
            return None
        # A name that does not resolve now may later: the bridge checks at each connect.
    return BridgeTarget(
        endpoint=AmiEndpoint(
            host=record.host, port=record.port, username=record.username, secret=record.secret
        ),
        organization_id=record.organization_id,
        connection_key=key,
        cel=source_of_record(record),
        parties=Parties.configured(trunks=record.trunks, inbound_contexts=record.inbound_contexts),
    )


async def dial_endpoint(target: BridgeTarget) -> AmiEndpoint:
    """The endpoint to connect to now. A record's host is resolved and checked against the
    operator's policy, and the address that passed is dialled, not the name again (a DNS
    answer that changes in between, rebinding, cannot steer the bridge). Raises
    TargetRefused (a ConnectionError): that target is never dialled."""
    endpoint = target.endpoint
    if target.trusted:
        return endpoint
    addresses = await asyncio.to_thread(check_target, endpoint.host, endpoint.port)
    return dataclasses.replace(endpoint, host=str(addresses[0]))
