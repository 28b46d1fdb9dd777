"""An installation file: the organization (provisioning.onboarding) and its phone
connections, one or more Asterisk Manager Interface endpoints and/or a Twilio account.

Connections go through the REST API's serializers and services, so the same rules
hold as for an admin over REST: an Asterisk host must pass the operator's policy
(telephony/egress.py, ``AMI_ALLOWED_TARGETS``) and a Twilio account's credentials must
be accepted by Twilio (telephony/twilio/accounts.py). Secrets are best named by the
environment variable holding them (``secret_env = "AMI_SECRET"``), so the file can be
kept in version control. ``manage.py onboard`` runs it; docs/going-live.md.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from django.db import transaction
from pydantic import Field, ValidationError

from contactcenter.models import Organization
from provisioning.onboarding.apply import (
    OnboardingError,
    Report,
    admin_context,
    apply_config_row,
    apply_setup,
    differences,
    through_service,
    validated,
)
from provisioning.onboarding.schema import OrganizationSetup, Section, secret
from telephony.api.connections import AsteriskConnectionSerializer, TwilioAccountSerializer
from telephony.models import AsteriskConnection, TwilioAccount
from telephony.twilio.accounts import twilio_account_create, twilio_account_update


class AsteriskSpec(Section):
    name: str = Field(min_length=1)
    host: str = Field(min_length=1)
    port: int | None = None
    username: str = Field(min_length=1)
    secret: str | None = None
    secret_env: str | None = None
    is_enabled: bool | None = None
    # Which channels are trunks, for the calls' direction (docs/telephony.md, "Direction").
    trunks: str | None = None
    inbound_contexts: str | None = None


class TwilioSpec(Section):
    account_sid: str = Field(min_length=1)
    auth_token: str | None = None
    auth_token_env: str | None = None
    api_key_sid: str | None = None
    api_key_secret: str | None = None
    api_key_secret_env: str | None = None
    twiml_app_sid: str | None = None
    caller_id: str | None = None
    is_enabled: bool | None = None


class InstallationSetup(OrganizationSetup):
    asterisk: list[AsteriskSpec] = []
    twilio: TwilioSpec | None = None


def load(path: Path) -> InstallationSetup:
    """The file, parsed and checked; OnboardingError says what is wrong and where."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OnboardingError(f"{path}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise OnboardingError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return InstallationSetup.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in error['loc']) or '(file)'}: {error['msg']}"
            for error in exc.errors()
        ]
        raise OnboardingError(f"{path}:\n  " + "\n  ".join(problems)) from exc


def _secrets(spec: Section, names: tuple[str, ...], where: str) -> dict[str, Any]:
    data = spec.given(leave_out=tuple(f"{name}_env" for name in names))
    for name in names:
        try:
            value = secret(getattr(spec, name), getattr(spec, f"{name}_env"), where=where)
        except ValueError as exc:
            raise OnboardingError(str(exc)) from exc
        if value is not None:
            data[name] = value
    return data


def _asterisk(org: Organization, spec: AsteriskSpec, report: Report) -> None:
    where = f"asterisk[{spec.name}]"
    data = _secrets(spec, ("secret",), where)
    context = admin_context(org)
    lookup = {"name": spec.name}
    apply_config_row(
        AsteriskConnection,
        AsteriskConnectionSerializer,
        org=org,
        lookup=lookup,
        data=data,
        where=where,
        context=context,
        report=report,
    )


def _twilio(org: Organization, spec: TwilioSpec, report: Report) -> None:
    where = f"twilio[{spec.account_sid}]"
    data = _secrets(spec, ("auth_token", "api_key_secret"), where)
    context = admin_context(org)
    account = TwilioAccount.objects.filter(organization=org).first()
    values = validated(
        TwilioAccountSerializer, data, where=where, context=context, instance=account
    )
    if account is None:
        report.created.append(where)
        through_service(where, lambda: twilio_account_create(organization=org, values=values))
        return
    changed = differences(account, values)
    if not changed:
        report.unchanged.append(where)
        return
    report.updated.append(f"{where} ({', '.join(sorted(changed))})")
    through_service(where, lambda: twilio_account_update(account=account, values=changed))


def onboard(setup: InstallationSetup, *, base_url: str) -> tuple[Organization, Report]:
    """Apply the file in one transaction: all of it, or (on an error) none of it. The
    invitation e-mails go out once it has committed."""
    report = Report()
    with transaction.atomic():
        org = apply_setup(setup, base_url=base_url, report=report)
        for connection in setup.asterisk:
            _asterisk(org, connection, report)
        if setup.twilio is not None:
            _twilio(org, setup.twilio, report)
    return org, report
