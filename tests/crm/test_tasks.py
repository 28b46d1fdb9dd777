"""The crm tasks: retried on transient database errors, failures logged with their ids."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError

from crm import tasks
from crm.services.dispositions import FollowThrough


def test_transient_db_error_is_retried(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[dict[str, Any]] = []

    def flaky(**kwargs: Any) -> FollowThrough:
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return FollowThrough(case_id=7, case_created=True)

    monkeypatch.setattr(tasks, "_apply_rules", flaky)
    result = tasks.call_disposition_apply.apply(args=(41, 3), throw=False)
    assert result.get()["case_id"] == 7
    assert calls == [{"call_id": 41, "disposition_id": 3}] * 2
    assert "task crm.call_disposition_apply retrying (args=(41, 3)" in caplog.text


def test_other_errors_fail_at_once_and_are_logged_with_the_ids(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def broken(**kwargs: Any) -> FollowThrough:
        calls.append(1)
        raise ValueError("a bug")

    monkeypatch.setattr(tasks, "_apply_rules", broken)
    result = tasks.call_disposition_apply.apply(args=(41, 3), throw=False)
    assert result.failed()
    assert calls == [1]
    failure = next(r for r in caplog.records if r.name == "crm.tasks" and r.levelname == "ERROR")
    assert "task crm.call_disposition_apply failed (args=(41, 3)" in failure.getMessage()
    assert failure.exc_info is not None


def test_retry_policy_backs_off_exponentially() -> None:
    task = tasks.call_disposition_apply
    assert set(task.autoretry_for) == {OperationalError, tasks.InterfaceError}
    assert task.retry_backoff == 2
    assert task.retry_backoff_max == 300
    assert task.retry_jitter is True
