"""``python manage.py onboard organization.toml``: set up a real organization from a file.

The organization, its case categories, agents (extensions, SIP accounts), queues and
their members, dispositions, the Asterisk or Twilio connection, and the people, who
are invited by e-mail to choose their password. Same rules as the REST API; one
transaction; applying the same file again changes nothing. docs/going-live.md walks
through it; docs/examples/organization.toml is a complete example.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from provisioning.onboarding.apply import OnboardingError, Report
from telephony.onboarding import load, onboard


class _DryRun(Exception):
    def __init__(self, report: Report) -> None:
        super().__init__("dry run")
        self.report = report


class Command(BaseCommand):
    help = "Create or complete an organization (people, agents, queues, connections) from a file."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="the organization file (TOML)")
        parser.add_argument(
            "--base-url",
            default="",
            help="where people reach this installation, for the invitation links "
            "(default: the PUBLIC_URL setting)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the file against the database and say what would change; change nothing",
        )
        parser.add_argument(
            "--show-links",
            action="store_true",
            help="also print the invitation links (each opens an account: keep them private)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        base_url = options["base_url"] or settings.PUBLIC_URL
        try:
            setup = load(options["file"])
            if options["dry_run"]:
                try:
                    with transaction.atomic():
                        _, report = onboard(setup, base_url=base_url or "http://dry-run")
                        raise _DryRun(report)
                except _DryRun as dry:
                    self._summary(dry.report, dry_run=True, show_links=False)
                return
            organization, report = onboard(setup, base_url=base_url)
        except OnboardingError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Organization: {organization.name}"))
        self._summary(report, dry_run=False, show_links=options["show_links"])

    def _summary(self, report: Report, *, dry_run: bool, show_links: bool) -> None:
        would = "would be " if dry_run else ""
        for line in report.created:
            self.stdout.write(f"  {would}created  {line}")
        for line in report.updated:
            self.stdout.write(f"  {would}updated  {line}")
        self.stdout.write(f"  {len(report.unchanged)} already as the file says")
        if dry_run:
            self.stdout.write("Dry run: nothing was changed, no e-mail was sent.")
            return
        for issued in report.invitations:
            invitation = issued.invitation
            invitation.refresh_from_db()  # the e-mail's outcome, written after commit
            sent = (
                "e-mail sent"
                if invitation.sent_at
                else self.style.WARNING(f"e-mail NOT sent ({invitation.send_error})")
            )
            self.stdout.write(
                f"  invited  {invitation.username} <{invitation.email}> as "
                f"{invitation.role}: {sent}"
            )
            if show_links:
                self.stdout.write(f"           {issued.link}")
        if not report.changed:
            self.stdout.write("Nothing to change.")
