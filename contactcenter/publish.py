"""The one door out: what changed, as ids, once the transaction commits.

Services call the functions below inside their transaction. Each registers an
``on_commit`` callback that hands the ids to the installed sink, so nothing is published
for a change that rolls back and whatever the sink shows is read from committed rows.
The sink is installed by the package that shows the changes (realtime's AppConfig);
contactcenter knows nothing of screens, groups or WebSockets. With no sink installed (a
process without realtime) publishing costs one attribute read.

Publishing must never undo or fail the change it reports: the callbacks are registered
``robust``, so a sink that raises is logged and the callbacks after it still run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol

from django.db import transaction


class Sink(Protocol):
    """Where committed changes go (realtime.publish.ScreenSink). Called after commit,
    on the thread that committed."""

    def changes(
        self,
        organization_id: int,
        call_ids: frozenset[int],
        agent_ids: frozenset[int],
        queue_ids: frozenset[int],
        edited: bool,
    ) -> None:
        """``edited``: a person changed the calls' records (not the PBX)."""

    def agent_state_changed(self, organization_id: int, agent_id: int) -> None: ...

    def case_created(self, case_id: int) -> None: ...

    def notification_created(self, notification_id: int) -> None: ...

    def notification_read(self, user_id: int, notification_id: int, read_at: datetime) -> None: ...

    def sessions_revoked(self, user_ids: frozenset[int]) -> None: ...

    def voicemails_changed(self, organization_id: int, voicemail_ids: frozenset[int]) -> None:
        """Voicemails left, claimed or dealt with: their queues' agents."""

    def queue_alerts_changed(self, organization_id: int, alert_ids: frozenset[int]) -> None: ...

    def floor_changed(self, organization_id: int) -> None:
        """Something only the supervisors' floor shows changed (a monitoring session)."""

    async def start_background(self) -> None: ...

    async def stop_background(self) -> None: ...


_sink: Sink | None = None


def install(sink: Sink | None) -> None:
    """From now on committed changes go to ``sink`` (``None``: nowhere)."""
    global _sink
    _sink = sink


def _on_commit(name: str, hand_over: Callable[[Sink], None]) -> None:
    sink = _sink
    if sink is None:
        return

    def after_commit() -> None:
        hand_over(sink)

    # Django's robust handler logs the callback's qualified name when it fails.
    after_commit.__qualname__ = after_commit.__name__ = f"publish.{name}"
    transaction.on_commit(after_commit, robust=True)


def calls_changed(
    *,
    organization_id: int,
    call_ids: Iterable[int] = (),
    agent_ids: Iterable[int] = (),
    queue_ids: Iterable[int] = (),
) -> None:
    """Calls, agents and queues changed (a batch of facts applied, or a sweep)."""
    calls, agents, queues = frozenset(call_ids), frozenset(agent_ids), frozenset(queue_ids)
    _on_commit(
        "calls_changed",
        lambda sink: sink.changes(organization_id, calls, agents, queues, False),
    )


def call_edited(*, organization_id: int, call_id: int) -> None:
    """A person changed a call's record (disposition, notes): ``call.updated``."""
    calls, nothing = frozenset({call_id}), frozenset[int]()
    _on_commit(
        "call_edited",
        lambda sink: sink.changes(organization_id, calls, nothing, nothing, True),
    )


def agent_state_changed(*, organization_id: int, agent_id: int) -> None:
    """An agent's state changed: their consoles, and the figures of their queues."""
    _on_commit(
        "agent_state_changed", lambda sink: sink.agent_state_changed(organization_id, agent_id)
    )


def case_created(*, case_id: int) -> None:
    """To the assigned agent and the agent of the call the case came from."""
    _on_commit("case_created", lambda sink: sink.case_created(case_id))


def notification_created(*, notification_id: int) -> None:
    _on_commit("notification_created", lambda sink: sink.notification_created(notification_id))


def notification_read(*, user_id: int, notification_id: int, read_at: datetime) -> None:
    _on_commit(
        "notification_read",
        lambda sink: sink.notification_read(user_id, notification_id, read_at),
    )


def sessions_revoked(*, user_ids: Iterable[int]) -> None:
    """The users' sessions were revoked (contactcenter.services.sessions): every socket
    of theirs closes. After commit, so a socket that reconnects at once is refused."""
    users = frozenset(user_ids)
    _on_commit("sessions_revoked", lambda sink: sink.sessions_revoked(users))


def floor_changed(*, organization_id: int) -> None:
    """A supervisor's monitoring session started or ended: the supervisors' floor reads
    again. Nothing goes to the agents' screens (they are not told, unless the policy
    says so: then the call changed too, ``call_edited``)."""
    _on_commit("floor_changed", lambda sink: sink.floor_changed(organization_id))


def queue_alerts_changed(*, organization_id: int, alert_ids: Iterable[int]) -> None:
    """Queue alerts were raised or cleared (services.queue_alerts): the wallboards."""
    alerts = frozenset(alert_ids)
    _on_commit(
        "queue_alerts_changed", lambda sink: sink.queue_alerts_changed(organization_id, alerts)
    )


def voicemails_changed(*, organization_id: int, voicemail_ids: Iterable[int]) -> None:
    """Voicemails were left, claimed or dealt with (services.voicemails): the consoles of
    their queues' agents (``voicemail.updated``)."""
    ids = frozenset(voicemail_ids)
    _on_commit("voicemails_changed", lambda sink: sink.voicemails_changed(organization_id, ids))


async def start_background() -> None:
    """From now on this process hands changes to the sink's background publisher (the
    bridge: rendering beside the writer, not in its way); returns once it is ready."""
    if _sink is not None:
        await _sink.start_background()


async def stop_background() -> None:
    """Back to handing changes over on commit, once what was handed over is out."""
    if _sink is not None:
        await _sink.stop_background()
