"""The small organization every writer is called on, and what the tables share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from contactcenter.enums import CallStatus
from contactcenter.models import CallDisposition, CallQueue, Organization
from contactcenter.services import config
from crm.models import Case, CaseCategory, Contact
from crm.services import cases, categories, contacts
from tests.conftest import Floor, build_floor
from tests.contactcenter.voicemailed import leave_voicemail, queue_with
from tests.factories import make_call, make_queue

PASSWORD = "a-Long-pass-phrase-9"


@dataclass
class World:
    floor: Floor
    queue: CallQueue
    contact: Contact
    case: Case
    category: CaseCategory
    disposition: CallDisposition

    @property
    def org(self) -> Organization:
        return self.floor.org


def build_world() -> World:
    floor = build_floor("Audited")
    org = floor.org
    category = categories.case_category_create(organization=org, name="Billing")
    return World(
        floor=floor,
        queue=make_queue(org),
        contact=contacts.contact_create(organization=org, first_name="Ada"),
        case=cases.case_create(organization=org, actor=None, title="First"),
        category=category,
        disposition=config.config_row_create(
            model=CallDisposition,
            organization=org,
            values={"name": "Sale", "code": "sale", "requires_case_creation": True},
        ),
    )


# (module, function) -> (call it on the world, the action its entry has). The entry must
# be of the world's organization unless the action says "(no organization)". A key may
# name one case of a function after a ``#`` (one function serving several kinds).
Writer = tuple[Callable[[World], object], str]


def open_call(w: World, hours: int = 0) -> Any:
    call = make_call(
        w.org, status=CallStatus.IN_PROGRESS, started_at=timezone.now() - timedelta(hours=hours)
    )
    call.connection_key = "asterisk:1"
    call.save(update_fields=["connection_key"])
    return call


def left_voicemail(w: World) -> Any:
    return leave_voicemail(queue_with(w.org, w.floor.agent))
