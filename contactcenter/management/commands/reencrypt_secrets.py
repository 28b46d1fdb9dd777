"""``python manage.py reencrypt_secrets``: every stored secret under the first key.

Rotation (docs/security.md): put a new key in front of ``FIELD_ENCRYPTION_KEYS``,
restart, run this, then drop the old key. ``--new-key`` prints a fresh key.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from config.encryption import new_key
from config.fields import encrypted_fields, reencrypt_rows
from contactcenter.services import audit


class Command(BaseCommand):
    help = (
        "Encrypt every stored secret (PBX and Twilio credentials) again with the first "
        "key of FIELD_ENCRYPTION_KEYS, so the older keys can be removed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--new-key", action="store_true", help="print a new key and change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["new_key"]:
            self.stdout.write(new_key())
            return
        written: dict[str, int] = {}
        for model, fields in encrypted_fields().items():
            written[model._meta.label] = rows = reencrypt_rows(model, fields)
            self.stdout.write(f"{model._meta.label} ({', '.join(fields)}): {rows} rows")
        # Installation-wide: no organization's entry (the rows are counted, never shown).
        audit.record(action="secrets.reencrypt", organization_id=None, details={"rows": written})
        total = sum(written.values())
        self.stdout.write(self.style.SUCCESS(f"{total} rows encrypted with the first key."))
