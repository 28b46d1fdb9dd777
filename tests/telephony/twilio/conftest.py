from __future__ import annotations

import pytest

from contactcenter.models import CallQueue
from telephony.models import TwilioAccount
from tests.conftest import Floor
from tests.factories import make_queue
from tests.telephony.twilio.signed import make_account


@pytest.fixture
def account(floor_a: Floor) -> TwilioAccount:
    return make_account(floor_a.org.pk)


@pytest.fixture
def queue(floor_a: Floor) -> CallQueue:
    return make_queue(floor_a.org, "support")
