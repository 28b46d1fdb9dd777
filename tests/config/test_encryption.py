"""Secrets at rest (config/encryption.py, config/fields.py): the columns hold Fernet
tokens, read back with raw SQL; rotation re-encrypts under the new key; a wrong or
missing key stops with an error that names the field and never the value; the data
migration encrypts rows that were stored in plain text."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from config.encryption import SecretDecryptionError, new_key, parse_keys
from config.fields import Sealed, encrypted_fields
from contactcenter.models import Agent, AuditEntry
from contactcenter.services import audit
from telephony.models import AsteriskConnection, TwilioAccount
from tests.conftest import Floor, client_for

ROOT = Path(__file__).resolve().parents[2]
AMI = {"name": "pbx1", "host": "10.0.0.5", "port": 5038, "username": "bridge"}
SECRETS = {
    "ami": "ami-s3cret-7781",
    "sip": "sip-pa55word-4410",
    "token": "twilio-auth-token-0931",
    "key": "twilio-api-key-secret-5520",
}


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


def _opens_with(key: str, token: str) -> str:
    return Fernet(key).decrypt(token.encode()).decode()


@pytest.fixture
def stored(floor_a: Floor, settings: Any) -> dict[str, Any]:
    settings.AMI_ALLOWED_TARGETS = ["10.0.0.0/24"]
    ami = AsteriskConnection.objects.create(organization=floor_a.org, secret=SECRETS["ami"], **AMI)
    twilio = TwilioAccount.objects.create(
        organization=floor_a.org,
        account_sid="AC" + "a" * 32,
        auth_token=SECRETS["token"],
        api_key_sid="SK" + "b" * 32,
        api_key_secret=SECRETS["key"],
    )
    Agent.objects.filter(pk=floor_a.agent.pk).update(sip_username="1001")
    agent = Agent.objects.get(pk=floor_a.agent.pk)
    agent.sip_password = SECRETS["sip"]
    agent.save(update_fields=["sip_password"])
    return {"ami": ami, "twilio": twilio, "agent": agent}


def _columns(stored: dict[str, Any]) -> dict[str, str]:
    return {
        "ami": _raw("telephony_asteriskconnection", "secret", stored["ami"].pk),
        "token": _raw("telephony_twilioaccount", "auth_token", stored["twilio"].pk),
        "key": _raw("telephony_twilioaccount", "api_key_secret", stored["twilio"].pk),
        "sip": _raw("contactcenter_agent", "sip_password", stored["agent"].pk),
    }


@pytest.mark.django_db
def test_every_secret_column_holds_a_token_that_opens_with_the_first_key(
    stored: dict[str, Any], settings: Any
) -> None:
    (key,) = settings.FIELD_ENCRYPTION_KEYS
    for name, column in _columns(stored).items():
        assert SECRETS[name] not in column
        assert column.startswith("gAAAAA")  # a Fernet token, version 0x80
        assert _opens_with(key, column) == SECRETS[name]
    # Read through the models, each is the plaintext again.
    assert AsteriskConnection.objects.get().secret == SECRETS["ami"]
    twilio = TwilioAccount.objects.get()
    assert (twilio.auth_token, twilio.api_key_secret) == (SECRETS["token"], SECRETS["key"])
    assert Agent.objects.get(pk=stored["agent"].pk).sip_password == SECRETS["sip"]


@pytest.mark.django_db
def test_a_row_is_decrypted_only_when_its_secret_is_read(
    stored: dict[str, Any], settings: Any
) -> None:
    (old,) = settings.FIELD_ENCRYPTION_KEYS
    agent = Agent.objects.get(pk=stored["agent"].pk)
    assert isinstance(agent.__dict__["sip_password"], Sealed)
    assert "gAAAA" not in repr(agent.__dict__["sip_password"])
    # A row loaded under a wrong key still loads; only reading its secret fails.
    settings.FIELD_ENCRYPTION_KEYS = parse_keys([new_key()])
    agent = Agent.objects.get(pk=stored["agent"].pk)
    agent.name = "Renamed"
    agent.save()  # the untouched secret is written back as it was stored
    settings.FIELD_ENCRYPTION_KEYS = parse_keys([new_key(), old])
    assert Agent.objects.get(pk=stored["agent"].pk).sip_password == SECRETS["sip"]


@pytest.mark.django_db
def test_secrets_are_write_only_over_rest(stored: dict[str, Any], floor_a: Floor) -> None:
    client = client_for(floor_a.admin)
    bodies = [
        client.get("/api/v1/asterisk-connections/").content,
        client.get(f"/api/v1/asterisk-connections/{stored['ami'].pk}/").content,
        client.get("/api/v1/twilio-accounts/").content,
        client.get(f"/api/v1/twilio-accounts/{stored['twilio'].pk}/").content,
        client.get("/api/v1/agents/").content,
        client.get(f"/api/v1/agents/{stored['agent'].pk}/").content,
    ]
    columns = _columns(stored)
    for body in bodies:
        for name, secret in SECRETS.items():
            assert secret.encode() not in body
            assert columns[name].encode() not in body
    assert b'"has_secret":true' in bodies[1]


@pytest.mark.django_db
def test_secrets_are_write_only_in_the_admin(stored: dict[str, Any]) -> None:
    from django.test import Client

    from contactcenter.models import User

    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-9f3k2"))
    pages = {
        "telephony/asteriskconnection": stored["ami"].pk,
        "telephony/twilioaccount": stored["twilio"].pk,
        "contactcenter/agent": stored["agent"].pk,
    }
    bodies = []
    for model, pk in pages.items():
        for url in (f"/admin/{model}/", f"/admin/{model}/{pk}/change/"):
            response = client.get(url)
            assert response.status_code == 200, url
            bodies.append(response.content)
    columns = _columns(stored)
    for body in bodies:
        for name, secret in SECRETS.items():
            assert secret.encode() not in body and columns[name].encode() not in body, name
    assert b'type="password" name="auth_token"' in bodies[3]


@pytest.mark.django_db
def test_rotation_reencrypts_every_row_under_the_new_key(
    stored: dict[str, Any], settings: Any
) -> None:
    (old,) = settings.FIELD_ENCRYPTION_KEYS
    new = new_key()
    settings.FIELD_ENCRYPTION_KEYS = parse_keys([new, old])
    before = _columns(stored)
    out = io.StringIO()
    call_command("reencrypt_secrets", stdout=out)
    written = dict(line.split(" (", 1) for line in out.getvalue().splitlines() if " (" in line)
    assert written["telephony.AsteriskConnection"].startswith("secret")
    assert written["telephony.TwilioAccount"] == "auth_token, api_key_secret): 1 rows"
    assert written["contactcenter.Agent"] == "sip_password): 1 rows"
    # Audited, with the counts only.
    (entry,) = AuditEntry.objects.filter(action="secrets.reencrypt")
    assert entry.details["rows"]["telephony.AsteriskConnection"] == 1
    assert not any(secret in str(entry.details) for secret in SECRETS.values())
    after = _columns(stored)
    for name, column in after.items():
        assert column != before[name]
        assert _opens_with(new, column) == SECRETS[name]
    # The old key can go: everything opens with the new one alone.
    settings.FIELD_ENCRYPTION_KEYS = parse_keys([new])
    assert AsteriskConnection.objects.get().secret == SECRETS["ami"]
    assert Agent.objects.get(pk=stored["agent"].pk).sip_password == SECRETS["sip"]


@pytest.mark.django_db
def test_a_wrong_key_fails_clearly_and_names_no_value(
    stored: dict[str, Any], settings: Any
) -> None:
    settings.FIELD_ENCRYPTION_KEYS = parse_keys([new_key()])
    connection_row = AsteriskConnection.objects.get()
    with pytest.raises(SecretDecryptionError) as caught:
        _ = connection_row.secret
    message = str(caught.value)
    assert "telephony.AsteriskConnection.secret" in message
    assert "FIELD_ENCRYPTION_KEYS" in message
    assert SECRETS["ami"] not in message
    assert _columns(stored)["ami"] not in message
    # The re-encryption refuses too, and changes nothing.
    before = _columns(stored)
    with pytest.raises(SecretDecryptionError):
        call_command("reencrypt_secrets", stdout=io.StringIO())
    assert _columns(stored) == before


def test_keys_are_checked_when_read() -> None:
    with pytest.raises(ImproperlyConfigured, match="is empty"):
        parse_keys([])
    with pytest.raises(ImproperlyConfigured, match="key 2 is not a Fernet key"):
        parse_keys([new_key(), "not-a-key"])


@pytest.mark.django_db
def test_a_secret_column_cannot_be_searched(stored: dict[str, Any]) -> None:
    with pytest.raises(FieldError, match="encrypted"):
        list(AsteriskConnection.objects.filter(secret=SECRETS["ami"]))
    with pytest.raises(FieldError):
        list(AsteriskConnection.objects.filter(secret__startswith="ami"))
    assert AsteriskConnection.objects.exclude(secret="").count() == 1


def _manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("keys", "expected"),
    [("", "FIELD_ENCRYPTION_KEYS"), ("nope", "key 1 is not a Fernet key")],
)
def test_production_will_not_start_without_a_valid_key(keys: str, expected: str) -> None:
    env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "cc.example.com",
        "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgres://u@127.0.0.1/db",
        "FIELD_ENCRYPTION_KEYS": keys,
    }
    started = _manage(["check"], env)
    assert started.returncode != 0, started.stdout + started.stderr
    assert expected in started.stderr, started.stderr


def test_outside_production_the_installation_makes_its_own_key(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "FIELD_ENCRYPTION_KEYS"},
        "VAR_DIR": str(tmp_path),
    }
    code = "from django.conf import settings; print(settings.FIELD_ENCRYPTION_KEYS[0])"
    runs = [_manage(["shell", "--no-imports", "-c", code], env).stdout.strip() for _ in range(2)]
    assert runs[0] and runs[0] == runs[1] == (tmp_path / "field_encryption_key").read_text().strip()
    Fernet(runs[0])  # a valid key
    assert (tmp_path / "field_encryption_key").stat().st_mode & 0o077 == 0


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_rows_stored_in_plain_text(floor_a: Floor, settings: Any) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("telephony", "0004_asterisk_field_validators")])
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO telephony_asteriskconnection (organization_id, name, host, port,"
                " username, secret, is_enabled, created_at, updated_at) VALUES"
                " (%s, 'old', '10.0.0.9', 5038, 'bridge', 'plain-old-secret', %s, %s, %s)"
                " RETURNING id",
                [floor_a.org.pk, True, timezone.now(), timezone.now()],
            )
            pk = cursor.fetchone()[0]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes("telephony"))
    column = _raw("telephony_asteriskconnection", "secret", pk)
    assert "plain-old-secret" not in column
    (key,) = settings.FIELD_ENCRYPTION_KEYS
    assert _opens_with(key, column) == "plain-old-secret"
    assert AsteriskConnection.objects.get(pk=pk).secret == "plain-old-secret"


@pytest.mark.django_db(transaction=True)  # the bridge works in its own thread
async def test_the_bridge_logs_in_with_the_decrypted_secret_and_logs_it_nowhere(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from asgiref.sync import sync_to_async

    from provisioning.demo import seed_demo
    from telephony.ami.simulator import AmiSimulator
    from telephony.ami.targets import record_targets
    from tests.telephony.bridge_harness import connect_once
    from tests.telephony.conftest import SECRET, fast_config

    def stored(port: int) -> str:
        AsteriskConnection.objects.create(
            organization=seed_demo().organization,
            name="pbx",
            host="127.0.0.1",
            port=port,
            username="bridge",
            secret=SECRET,
        )
        return _raw("telephony_asteriskconnection", "secret", AsteriskConnection.objects.get().pk)

    caplog.set_level(logging.DEBUG)
    async with AmiSimulator(fast_config(dialplan_events=False)) as simulator:
        settings.AMI_ALLOWED_TARGETS = [f"127.0.0.1:{simulator.port}"]
        column = await sync_to_async(stored)(simulator.port)
        (target,) = await sync_to_async(record_targets)()
        # The simulator takes only the right secret: a login means it was decrypted.
        assert (await connect_once(target)).stats.connects == 1
    assert SECRET not in column
    ours = [r for r in caplog.records if not r.name.startswith("telephony.ami.simulator")]
    assert ours  # the bridge did log (its connect), so the check below has something to read
    for record in ours:
        assert SECRET not in record.getMessage(), record.name


@pytest.mark.django_db
def test_no_audit_entry_holds_a_secret(floor_a: Floor, settings: Any) -> None:
    settings.AMI_ALLOWED_TARGETS = ["10.0.0.0/24"]
    client = client_for(floor_a.admin)
    created = client.post("/api/v1/asterisk-connections/", {**AMI, "secret": SECRETS["ami"]})
    assert created.status_code == 201, created.content
    url = f"/api/v1/asterisk-connections/{created.json()['id']}/"
    assert client.patch(url, {"secret": SECRETS["key"]}).status_code == 200
    entries = AuditEntry.objects.filter(object_type="telephony.asteriskconnection")
    assert entries.count() == 2
    written = json.dumps(list(entries.values("object_label", "changes", "details")))
    assert SECRETS["ami"] not in written and SECRETS["key"] not in written
    assert entries.filter(action="update").get().changes["secret"] == ["[redacted]"] * 2
    # Whatever its name, a field stored encrypted is never written into an entry.
    for model, names in encrypted_fields().items():
        for name in names:
            assert audit.is_redacted(model._meta.label_lower, name), (model, name)
