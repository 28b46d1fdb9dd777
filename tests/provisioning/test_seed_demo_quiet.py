"""Seeding the demo tells nobody anything: its past cases are no news (issue 24).

The demo case assigned to alice went through case_create with its assignee, so she got
a "case assigned" notification, and its e-mail, through the console mail backend, was
the first thing a newcomer's ./scripts/run printed, among the migrations.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command

from crm.models import Case, Notification
from provisioning.demo_history import OPEN_CASES

pytestmark = pytest.mark.django_db


def test_seed_demo_sends_no_mail_and_no_notification_and_keeps_the_assignees(
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[Any]],
) -> None:
    assert [spec for spec in OPEN_CASES if spec.assignee]  # what this test is about
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=out)
    assert mail.outbox == []
    assert not Notification.objects.exists()
    assert "Subject:" not in out.getvalue()
    assigned = {
        title: extension
        for title, extension in Case.objects.values_list("title", "assigned_agent__extension")
    }
    for spec in OPEN_CASES:
        assert assigned[spec.title] == spec.assignee, spec.title
