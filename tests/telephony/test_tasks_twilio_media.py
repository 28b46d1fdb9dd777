"""The Twilio media tasks (telephony/tasks.py): a try Twilio could not serve is retried
by a worker, up to the task's ``max_retries``; with no worker (Celery eager, the
one-process default) it is given up at once and the beat's catch-up asks again.

The media services themselves are tested against the Twilio stand-in
(tests/telephony/twilio/test_recording_media.py, test_voicemail.py); here they are
replaced by one that always says "later", to count the task's tries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from telephony import tasks
from telephony.twilio import recording_media, voicemail_media
from telephony.twilio.recording_media import DeleteLater, FetchLater
from tests.conftest import celery_conf

# (task, the service it calls, where that lives, its "later" error, given up as, retries)
CASES = [
    (tasks.twilio_recording_fetch, "twilio_recording_fetch", recording_media, FetchLater, "", 8),
    (tasks.twilio_voicemail_fetch, "twilio_voicemail_fetch", voicemail_media, FetchLater, "", 8),
    (
        tasks.twilio_recording_delete,
        "twilio_recording_delete",
        recording_media,
        DeleteLater,
        False,
        10,
    ),
    (
        tasks.twilio_voicemail_delete,
        "twilio_voicemail_delete",
        voicemail_media,
        DeleteLater,
        False,
        10,
    ),
]


@dataclass(frozen=True)
class Later:
    task: Any
    error: type[Exception]
    given_up: object
    retries: int
    tries: list[int]  # the ids the service was asked about, one per try


@pytest.fixture(params=CASES, ids=[case[0].name for case in CASES])
def later(request: Any, monkeypatch: Any) -> Later:
    """One of the four tasks, its service replaced by one that always says "later"."""
    task, name, module, error, given_up, retries = request.param
    tries: list[int] = []

    def always_later(**kwargs: int) -> None:
        tries.append(next(iter(kwargs.values())))
        raise error("Twilio: not now")

    monkeypatch.setattr(module, name, always_later)
    return Later(task=task, error=error, given_up=given_up, retries=retries, tries=tries)


def test_with_no_worker_a_try_for_later_is_given_up_at_once(later: Later) -> None:
    result = later.task.apply(args=[42])
    assert result.successful()
    assert result.get() is later.given_up
    assert later.tries == [42]


def test_a_worker_retries_a_try_for_later_up_to_the_tasks_limit(later: Later) -> None:
    with celery_conf(task_always_eager=False, task_eager_propagates=False):
        result = later.task.apply(args=[42])
    assert later.tries == [42] * (later.retries + 1)
    assert result.failed()
    assert isinstance(result.result, later.error)
