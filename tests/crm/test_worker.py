"""The disposition rules on a real Celery worker (its own processes) on Redis and PostgreSQL.

The worker (``celery -A config worker``, prefork with two processes, so two deliveries
of one task really run at the same time) gets the pytest database and a Redis database
of its own as broker and channel layer; this process sends tasks there (not eager) and
listens on the same channel layer as an agent's console.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from contactcenter.models import Call, CallDisposition
from crm.enums import CasePriority, NotificationKind
from crm.models import Case, FollowUp, Notification, OutboundEmail
from crm.tasks import call_disposition_apply
from tests.conftest import Floor, celery_conf, client_for
from tests.crm.factories import make_category
from tests.factories import make_call
from tests.realtime.support import open_agent, session_cookie, sync

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL", "")
# A Redis database of this module's own (broker and channel layer), so no other test
# run's tasks or messages mix with ours.
WORKER_REDIS = re.sub(r"/\d*$", "", REDIS_URL) + "/12" if REDIS_URL else ""
TIMEOUT = 60

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not REDIS_URL or connection.vendor != "postgresql", reason="needs PostgreSQL and Redis"
    ),
]


class Worker:
    def __init__(self, proc: subprocess.Popen[bytes], log: Path, mail: Path) -> None:
        self.proc = proc
        self.log_path = log
        self.mail = mail

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float = TIMEOUT) -> None:
        """Until ``check()`` holds. The worker's effects are in other processes and the
        database, with no event to await here: poll, failing fast if the worker died."""
        deadline = time.monotonic() + timeout
        while not check():
            if self.proc.poll() is not None:
                raise AssertionError(f"the worker died waiting for {what}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.log()}")
            time.sleep(0.05)

    def finished(self, task_id: str) -> bool:
        return bool(re.search(rf"\[{task_id}\] (succeeded|raised|retry)", self.log()))

    def idle(self, name: str) -> bool:
        """Every ``name`` task the worker received has finished (and there was one)."""
        log = self.log()
        received = len(re.findall(rf"Task {re.escape(name)}\[[^\]]+\] received", log))
        done = len(re.findall(rf"Task {re.escape(name)}\[[^\]]+\] succeeded", log))
        return received > 0 and received == done


def _reset_producer_pool() -> None:
    from config.celery import app

    # The pools are picked by broker URL on first use (kombu keeps one per URL): forget
    # the ones picked, as a forked worker does, so the next send uses the current URL.
    app._after_fork()


@pytest.fixture
def worker(tmp_path: Path, settings: Any) -> Iterator[Worker]:
    prefix = f"tw{uuid.uuid4().hex[:8]}"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = WORKER_REDIS
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "realtime.layers.CountingRedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": WORKER_REDIS}], "prefix": prefix},
        }
    }
    _reset_producer_pool()
    from config.celery import app

    app.control.purge()  # what an interrupted earlier run may have left in our queue
    db = connection.settings_dict
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "EMAIL_"))
    }
    mail = tmp_path / "mail"
    env.update(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        DATABASE_CONN_MAX_AGE="0",
        REDIS_URL=WORKER_REDIS,
        CELERY_TASK_ALWAYS_EAGER="false",
        CHANNEL_LAYER_PREFIX=prefix,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail),
        DJANGO_DEBUG="false",
    )
    log = tmp_path / "worker.log"
    celery = str(Path(sys.executable).with_name("celery"))
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *(celery, "-A", "config", "worker", "-l", "info", "-P", "prefork", "-c", "2"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
                *("-n", f"{prefix}@%h"),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    started = Worker(proc, log, mail)
    try:
        started.wait_for("the worker to be ready", lambda: " ready." in started.log())
        # Earlier tests may have loaded Celery's configuration (eager, the default
        # broker): this process must send to the worker's broker.
        with celery_conf(task_always_eager=False, broker_url=WORKER_REDIS):
            _reset_producer_pool()
            yield started
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        _reset_producer_pool()


@pytest.fixture
def complaint(floor_a: Floor) -> CallDisposition:
    return CallDisposition.objects.create(
        organization=floor_a.org,
        code="complaint",
        name="Complaint",
        requires_case_creation=True,
        requires_follow_up=True,
        default_case_category=make_category(floor_a.org, "Complaints"),
        default_case_priority=CasePriority.HIGH,
    )


def _patch_twice_at_once(floor: Floor, call: Call, disposition: CallDisposition) -> list[int]:
    """Two REST requests setting the same disposition, released at the same moment."""
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def request() -> None:
        try:
            client = client_for(floor.agent_member)
            barrier.wait()
            response = client.patch(
                f"/api/v1/calls/{call.pk}/", {"disposition": disposition.pk}, format="json"
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_concurrent_dispositions_open_exactly_one_case(
    worker: Worker, floor_a: Floor, complaint: CallDisposition
) -> None:
    call = make_call(floor_a.org, agent=floor_a.agent)
    assert _patch_twice_at_once(floor_a, call, complaint) == [200, 200]
    worker.wait_for("the rules to run", lambda: worker.idle("crm.call_disposition_apply"))

    case = Case.objects.get(source_call=call)
    assert case.assigned_agent == floor_a.agent
    assert case.priority == CasePriority.HIGH
    assert FollowUp.objects.filter(source_call=call).count() == 1
    assert call.events.filter(type="disposition.set").count() == 1


def test_task_delivered_twice_at_once_opens_one_case(
    worker: Worker, floor_a: Floor, complaint: CallDisposition
) -> None:
    call = make_call(floor_a.org, agent=floor_a.agent)
    Call.objects.filter(pk=call.pk).update(disposition=complaint)  # as if already set
    # The same message twice (a redelivery), run by the worker's two processes at once.
    sent = [call_disposition_apply.apply_async(args=(call.pk, complaint.pk)) for _ in range(2)]
    for result in sent:
        worker.wait_for(f"task {result.id}", lambda r=result: worker.finished(r.id))

    assert [worker.finished(r.id) for r in sent] == [True, True]
    assert "raised" not in worker.log()
    assert Case.objects.filter(source_call=call).count() == 1
    assert FollowUp.objects.filter(source_call=call).count() == 1


async def test_console_gets_case_created_and_the_agent_an_email(
    worker: Worker, floor_a: Floor, complaint: CallDisposition
) -> None:
    def prepare() -> Call:
        floor_a.agent.user.email = "agent@example.com"
        floor_a.agent.user.save()
        return make_call(floor_a.org, agent=floor_a.agent)

    call = await sync(prepare)()
    console, _ = await open_agent(await session_cookie(floor_a.agent.user))
    # A supervisor closes the agent's call: the agent is told (in the app, by mail).
    client = client_for(floor_a.supervisor)
    response = await sync(client.patch)(
        f"/api/v1/calls/{call.pk}/", {"disposition": complaint.pk}, format="json"
    )
    assert response.status_code == 200, response.content

    created = await console.until(lambda f: f["type"] == "case.created", timeout=TIMEOUT)
    case = await sync(Case.objects.get)(source_call=call)
    assert created["data"]["case"]["id"] == case.pk
    assert created["data"]["case"]["source_call_id"] == call.pk
    assert created["data"]["case"]["reference"] == case.reference
    pushed = await console.until(lambda f: f["type"] == "notification.created", timeout=TIMEOUT)
    assert pushed["data"]["notification"]["kind"] == NotificationKind.CASE_ASSIGNED
    await console.close()

    def mailed() -> bool:
        # The file backend creates the file before it writes; a message is whole once its
        # closing rule of 79 dashes is there.
        files = list(worker.mail.iterdir()) if worker.mail.exists() else []
        return any(f.read_text().endswith("-" * 79 + "\n") for f in files)

    await asyncio.to_thread(worker.wait_for, "the e-mail", mailed)
    message = next(worker.mail.iterdir()).read_text()
    assert "To: agent@example.com" in message
    assert f"{case.reference} assigned to you" in message

    def sent_once() -> bool:
        return OutboundEmail.objects.filter(sent_at__isnull=False).count() == 1

    await sync(worker.wait_for)("the outbox row", sent_once)
    notifications = Notification.objects.filter(user=floor_a.agent.user)
    kinds = await sync(lambda: sorted(notifications.values_list("kind", flat=True)))()
    assert kinds == [NotificationKind.CASE_ASSIGNED, NotificationKind.FOLLOW_UP_SCHEDULED]
