"""A REST client generated from the served schema, used against a running server.

What an integrator does: fetch /api/schema/ from a real Daphne process, check it with
a standard validator, generate a Python client with openapi-python-client (a dev
dependency), then sign in, list contacts, read the wallboard and create a contact
through the generated code, over a real socket.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.conftest import build_floor
from tests.factories import PASSWORD
from tests.realtime.servers import daphne, until_up

pytestmark = pytest.mark.django_db(transaction=True)

PACKAGE = "cc_api_client"


def _fetch_schema(base: str, username: str) -> dict[str, Any]:
    """The served schema, read as a signed-in member (it may be for members only)."""
    sign_in = urllib.request.Request(
        f"{base}/api/v1/auth/token/",
        data=json.dumps({"username": username, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(sign_in, timeout=30) as answer:
        access = json.load(answer)["access"]
    request = urllib.request.Request(
        f"{base}/api/schema/?format=json", headers={"Authorization": f"Bearer {access}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        schema: dict[str, Any] = json.load(answer)
    return schema


def _generate(schema: dict[str, Any], where: Path) -> Path:
    where.mkdir()
    spec = where / "schema.json"
    spec.write_text(json.dumps(schema))
    config = where / "generator.json"
    # No post hooks: formatting the generated code (ruff) is not what is tested here.
    config.write_text(json.dumps({"post_hooks": []}))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(spec),
            "--config",
            str(config),
            "--meta",
            "none",
            "--output-path",
            str(where / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Anything the generator could not turn into code is a warning naming it.
    assert "Unable to" not in done.stdout + done.stderr, done.stdout + done.stderr
    return where / PACKAGE


def _module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_generated_client_lists_reads_the_wallboard_and_creates_a_contact(
    tmp_path: Path, settings: Any
) -> None:
    floor = build_floor("Generated client")
    user = floor.supervisor.user
    # The server checks the password with its own hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])

    with daphne(tmp_path) as server:
        asyncio.run(until_up(server))
        schema = _fetch_schema(server.base, user.username)
        validate(schema)

        package = _generate(schema, tmp_path / "client")
        # One module per resource, not one flat "v1" module.
        resources = {p.name for p in (package / "api").iterdir() if p.is_dir()}
        assert {"contacts", "cases", "calls", "queues", "agents", "wallboard"} <= resources
        assert "v1" not in resources

        sys.path.insert(0, str(package.parent))
        try:
            client_module = _module("client")
            models = _module("models")
            token_create = _module("api.auth.auth_token_create")
            contacts_list = _module("api.contacts.contacts_list")
            contacts_create = _module("api.contacts.contacts_create")
            wallboard_retrieve = _module("api.wallboard.wallboard_retrieve")

            anonymous = client_module.Client(base_url=server.base, raise_on_unexpected_status=True)
            tokens = token_create.sync(
                client=anonymous,
                body=models.TokenObtainRequest(username=user.username, password=PASSWORD),
            )
            assert isinstance(tokens, models.TokenObtain), tokens
            client = client_module.AuthenticatedClient(
                base_url=server.base, token=tokens.access, raise_on_unexpected_status=True
            )

            empty = contacts_list.sync(client=client)
            assert isinstance(empty, models.PaginatedContactOutputList), empty
            assert empty.count == 0

            wallboard = wallboard_retrieve.sync(client=client)
            assert isinstance(wallboard, models.Wallboard), wallboard

            created = contacts_create.sync(
                client=client,
                body=models.ContactInputRequest(
                    first_name="Ada",
                    last_name="Lovelace",
                    email="ada@example.com",
                    phones=[models.PhoneInputRequest(number="+15551234567")],
                ),
            )
            assert isinstance(created, models.ContactOutput), created
            assert created.email == "ada@example.com"

            listed = contacts_list.sync(client=client, search="Lovelace")
            assert [c.id for c in listed.results] == [created.id]

            # An error answer is parsed into the API's error shape too.
            refused = contacts_list.sync_detailed(
                client=client_module.AuthenticatedClient(base_url=server.base, token="garbage")
            )
            assert refused.status_code == 401
            assert isinstance(refused.parsed, models.ErrorResponse401), refused.parsed
        finally:
            sys.path.remove(str(package.parent))
            for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
                del sys.modules[name]
