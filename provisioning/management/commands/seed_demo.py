"""``python manage.py seed_demo``: the demo organization, idempotently.

Safe to run any number of times: every row is found by its natural key and only
created when missing, and the demo users' passwords are reset to the documented ones.
The agents and queues match the AMI simulator's PBX (PJSIP/1001-1003, queue
``support`` and ``sales``), so simulated calls land on real records. The contacts get
a past (calls on earlier days, open cases: provisioning/demo_history.py), so the
demo's screen pops show what they are for.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from provisioning.demo import DEMO_PASSWORD, seed_demo
from provisioning.demo_history import seed_demo_history


class Command(BaseCommand):
    help = (
        "Create (or bring up to date) the demo organization: users, queues, contacts "
        "and their past calls and open cases."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            result = seed_demo()
            seed_demo_history(result)
        self.stdout.write(self.style.SUCCESS(f"Demo organization: {result.organization.name}"))
        self.stdout.write(f"Logins (all with password {DEMO_PASSWORD!r}):")
        for username, role in result.logins:
            self.stdout.write(f"  {username:<12} {role}")
        self.stdout.write(f"{result.created} rows created, {result.existing} already there.")
