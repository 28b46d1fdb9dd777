"""``manage.py reconcile_call_logs``: compare a day's calls with the PBX's CDRs and repair
them from its CEL (telephony/cel/reconcile.py), now, without Celery.

    manage.py reconcile_call_logs                      # yesterday, every connection
    manage.py reconcile_call_logs --day 2026-03-01 --connection asterisk:4
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from telephony.cel.reconcile import reconcile_day, scopes
from telephony.tasks import yesterday


class Command(BaseCommand):
    help = "Reconcile a day's calls with the PBX's CDRs (every connection with a log source)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--day", type=date.fromisoformat, help="YYYY-MM-DD; default yesterday")
        parser.add_argument("--connection", default="", help="asterisk:<id> or asterisk:env")

    def handle(self, *args: Any, **options: Any) -> None:
        chosen = [s for s in scopes() if options["connection"] in ("", s.connection_key)]
        if not chosen:
            raise CommandError("No connection with a CEL/CDR source (cel_url, CEL_DATABASE_URL).")
        failed = False
        for scope in chosen:
            day = options["day"] or yesterday(scope.organization_id)
            report = reconcile_day(scope, day)
            failed |= bool(report.error)
            self.stdout.write(
                f"{scope.connection_key} {day}: {report.pbx_calls} PBX calls, "
                f"{report.stored_calls} stored, {report.missing} missing, "
                f"{report.estimated} estimated, {report.different} different, "
                f"{report.unknown_to_pbx} unknown to the PBX, {report.repaired} repaired"
                + (f"; error: {report.error}" if report.error else "")
            )
        if failed:
            raise CommandError("Some PBX log databases could not be read (see above).")
