"""Every service that writes leaves an audit entry.

The services are found, not listed by hand: every public function of every module
under contactcenter/services, crm/services and telephony's services is either in the
WRITERS of its package's table in tests/contactcenter/services/audit_writers/
(contactcenter_writers.py, media_writers.py, telephony_writers.py, crm_writers.py:
called here on a small organization, and the entry it must leave checked) or in
NOT_WRITERS (audit_writers/not_writers.py) with the reason it writes nothing of its own.
A new function in those packages is in neither, and this test fails until it says which
it is.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from collections.abc import Iterator

import pytest

import contactcenter.services
import crm.services
from contactcenter.models import AuditEntry
from contactcenter.models.audit import ActorKind
from contactcenter.services import audit
from tests.contactcenter.services.audit_writers import (
    contactcenter_writers,
    crm_writers,
    media_writers,
    telephony_writers,
)
from tests.contactcenter.services.audit_writers.not_writers import (
    NOT_WRITER_MODULES,
    NOT_WRITERS,
)
from tests.contactcenter.services.audit_writers.telephony_writers import (
    TELEPHONY_SERVICE_MODULES,
)
from tests.contactcenter.services.audit_writers.world import PASSWORD, Writer, build_world

pytestmark = pytest.mark.django_db

TABLES = (
    contactcenter_writers.WRITERS,
    media_writers.WRITERS,
    telephony_writers.WRITERS,
    crm_writers.WRITERS,
)
WRITERS: dict[str, Writer] = {name: writer for table in TABLES for name, writer in table.items()}


def _function(writer: str) -> str:
    """A writer's function: a key may name one case of it after a ``#`` (one function
    serving several kinds, each leaving its own entry)."""
    return writer.partition("#")[0]


def test_no_writer_is_listed_in_two_tables() -> None:
    listed = [name for table in TABLES for name in table]
    assert len(listed) == len(WRITERS), sorted({n for n in listed if listed.count(n) > 1})
    assert not {_function(name) for name in WRITERS} & set(NOT_WRITERS)


def _service_functions() -> Iterator[str]:
    modules = [*TELEPHONY_SERVICE_MODULES]
    for package in (contactcenter.services, crm.services):
        modules += [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    for name in modules:
        if name in NOT_WRITER_MODULES:
            continue
        module = importlib.import_module(name)
        for attr, value in inspect.getmembers(module, inspect.isfunction):
            if value.__module__ == name and not attr.startswith("_"):
                yield f"{name}.{attr}"


def test_every_service_function_is_classified() -> None:
    found = set(_service_functions())
    writers = {_function(name) for name in WRITERS}
    unknown = sorted(found - writers - set(NOT_WRITERS))
    assert not unknown, (
        "New service functions: add each to WRITERS of its package's table in "
        "tests/contactcenter/services/audit_writers/ (with a call and the audit entry it "
        f"leaves) or to NOT_WRITERS there (with why it writes nothing): {unknown}"
    )
    gone = sorted((writers | set(NOT_WRITERS)) - found)
    assert not gone, f"Listed but no longer there: {gone}"


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_each_writer_leaves_an_audit_entry(name: str) -> None:
    call, action = WRITERS[name]
    world = build_world()
    before = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with audit.acting(audit.Actor.for_user(world.floor.admin.user, request_id="req-1")):
        call(world)
    entries = AuditEntry.objects.filter(id__gt=before, action=action.split(" ")[0])
    assert entries.exists(), (name, list(AuditEntry.objects.filter(id__gt=before).values()))
    if "(no organization" not in action:
        assert entries.filter(organization_id=world.org.pk).exists(), name
    if action.endswith("(no organization)"):
        assert entries.filter(organization_id=None).exists(), name
    kinds = set(entries.values_list("actor_kind", flat=True))
    if action.endswith("(by the PBX)"):
        assert kinds == {ActorKind.PBX}, (name, kinds)
    elif action.endswith("(by the system)"):
        # Judged on the figures, not done by whoever's process judged them (a wallboard's
        # feed, the scheduled task): named as the system.
        assert kinds == {ActorKind.SYSTEM}, (name, kinds)
    else:
        # The PBX's writes name the PBX; a sign-in names who signed in; the rest, the actor.
        assert kinds <= {ActorKind.USER, ActorKind.PBX}, (name, kinds)
    # No secret reaches an entry.
    written = json.dumps(list(AuditEntry.objects.filter(id__gt=before).values()), default=str)
    assert "secret-token" not in written and PASSWORD not in written
