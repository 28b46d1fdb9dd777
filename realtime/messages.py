"""Typed outbound messages: what a console or wallboard is told, field by field.

Each message's ``data`` is one of the ``*Data`` models below; docs/realtime-protocol.md
lists them message by message. Models forbid unknown fields, so a field added in one
place and not the other fails loudly in the tests instead of drifting silently. They
are built from rows by ``realtime.screens.render`` and published by ``realtime.publish``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict

from contactcenter import figures

PROTOCOL_VERSION = 2  # 2: wallboard.update replaced queue.metrics + wallboard.totals

# The situation of one call on one agent's screen, named by what last happened to it.
CallMessageType = Literal[
    "call.ringing",
    "call.answered",
    "call.held",
    "call.resumed",
    "call.transferred",
    "call.ended",
    "call.updated",
]
CALL_MESSAGE_TYPES: tuple[str, ...] = CallMessageType.__args__  # type: ignore[attr-defined]
# The agent's own part in a call: rung (offered), talking (connected), finished (done).
Leg = Literal["offered", "connected", "done", "none"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def dump(self) -> dict[str, Any]:
        """JSON-ready (datetimes as ISO 8601 strings), as it travels on the channel layer."""
        return self.model_dump(mode="json")


# --- the pieces --------------------------------------------------------------------------


class AgentView(Model):
    id: int
    name: str
    extension: str
    state: str
    state_reason: str
    state_changed_at: datetime | None


class CallView(Model):
    id: int
    # The PBX's id of the call (Asterisk's Linkedid, Twilio's CallSid): the softphone
    # matches the X-CC-Linkedid header of a ringing SIP call against it.
    external_id: str
    status: str
    direction: str
    caller_number: str
    caller_name: str
    callee_number: str
    queue_id: int | None
    agent_id: int | None
    started_at: datetime
    queued_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    held_since: datetime | None
    wait_seconds: int | None
    talk_seconds: int | None
    hold_seconds: int
    hangup_by: str
    disposition_id: int | None
    notes: str
    # The call's latest recording: "" (none), recording, paused, ended (its file not
    # stored yet), done (playable: GET /api/v1/calls/{id}/recordings/), failed, purged.
    recording: str = ""
    # The call's queue (or organization) records on demand: the agent may start recording
    # it (call.recording_start) while nothing records it.
    recording_on_demand: bool = False
    # A supervisor the agent is told of (the organization's agents_see_monitoring):
    # "" none, "whisper" coaching the agent, "barge" on the call with both.
    coached: str = ""
    # Clients keep the newest version of a call: a message with an older updated_at is stale.
    updated_at: datetime


class ContactView(Model):
    id: int
    display_name: str
    company: str
    email: str
    phones: list[str]


class CaseView(Model):
    id: int
    reference: str
    title: str
    status: str
    priority: str
    contact_id: int | None
    assigned_agent_id: int | None
    source_call_id: int | None
    created_at: datetime


class CallSummary(Model):
    id: int
    started_at: datetime
    status: str
    direction: str
    agent_id: int | None
    disposition_id: int | None
    talk_seconds: int | None


class ScreenPop(Model):
    """The CRM record of the customer on a call, as far as the agent may see it."""

    number: str
    contacts: list[ContactView]
    open_cases: list[CaseView]
    last_calls: list[CallSummary]


class NotificationView(Model):
    id: int
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class DispositionView(Model):
    id: int
    name: str
    code: str
    requires_case_creation: bool


# The figures' fields are named and typed once, in contactcenter.figures (the wallboard
# selector fills those dataclasses): taken from there, in the order the messages have
# always carried them.
_CALL_FIGURES = get_type_hints(figures.OrganizationTotals)  # the calls' and agents_by_state
_QUEUE_OWN = {
    name: hint
    for name, hint in get_type_hints(figures.QueueFigures).items()
    if name not in _CALL_FIGURES and name != "agents"
}


class QueueStats(Model):
    """A queue's live figures (definitions: docs/figures.md), as of the message's ``ts``."""

    __annotations__ = {**_QUEUE_OWN, **_CALL_FIGURES}


class QueueAgentView(Model):
    __annotations__ = get_type_hints(figures.QueueAgent)


class QueueBoard(QueueStats):
    """A queue as the wallboard shows it: the figures and its logged-in agents."""

    agents: list[QueueAgentView]


class BoardTotals(Model):
    __annotations__ = _CALL_FIGURES


# --- message payloads -------------------------------------------------------------------


class HelloData(Model):
    protocol: int = PROTOCOL_VERSION
    stream: Literal["agent", "wallboard", "supervisor"]
    heartbeat_seconds: int
    max_message_bytes: int


class CallFrameData(Model):
    """A call on the agent's screen. Every such message carries the whole call and its pop."""

    call: CallView
    leg: Leg
    pop: ScreenPop


class CallRemovedData(Model):
    call_id: int


class SipAccount(Model):
    """The agent's own SIP account for the browser softphone (docs/softphone.md)."""

    uri: str  # sip:<username>@<domain>
    username: str
    password: str
    domain: str
    websocket_url: str
    display_name: str


class SoftphoneConfig(Model):
    """What the console's softphone registers with. Sent to the agent's own sockets only."""

    # None: the agent has no SIP account (or no PBX WebSocket URL is known).
    sip: SipAccount | None
    # The organization's Twilio account can mint voice tokens for this agent.
    twilio: bool


class AgentSnapshotData(Model):
    agent: AgentView
    online: bool
    calls: list[CallFrameData]
    queues: list[QueueStats]
    notifications: list[NotificationView]
    dispositions: list[DispositionView]
    softphone: SoftphoneConfig


class AgentStateData(Model):
    agent: AgentView


class AgentPresenceData(Model):
    agent_id: int
    online: bool


class QueueStatsData(Model):
    queue: QueueStats


class NotificationCreatedData(Model):
    notification: NotificationView


class NotificationReadData(Model):
    notification_id: int
    read_at: datetime


class VoicemailView(Model):
    """A message a queue's caller left (docs/recordings.md, "Voicemail"); its audio is
    played through the REST API's signed link (``GET /api/v1/voicemails/{id}/``)."""

    id: int
    queue_id: int | None
    queue_name: str
    caller_number: str
    caller_name: str
    left_at: datetime
    duration_seconds: int | None
    transcription: str
    status: Literal["new", "claimed", "done"]
    media: Literal["waiting", "stored", "failed"]
    claimed_by: int | None
    claimed_by_name: str
    callback_id: int | None
    case_id: int | None


class VoicemailUpdatedData(Model):
    voicemail: VoicemailView


class CaseCreatedData(Model):
    case: CaseView


class WallboardScope(Model):
    queue_id: int | None


class QueueAlertView(Model):
    """A queue alert (docs/supervisor.md#alerts): raised while ``cleared_at`` is empty."""

    id: int
    queue_id: int
    queue_name: str
    kind: Literal["longest_wait", "service_level", "callers_waiting", "agents_available"]
    text: str  # what the wallboard says, e.g. "Longest wait: 185 s (above 120 s)"
    threshold: int
    value: float  # the figure when raised
    raised_at: datetime
    cleared_at: datetime | None
    cleared_value: float | None


class QueueAlertData(Model):
    alert: QueueAlertView


class WallboardSnapshotData(Model):
    scope: WallboardScope
    time_zone: str
    day_start: datetime
    day_end: datetime
    queues: list[QueueBoard]
    totals: BoardTotals
    # The organization's agents with a console open (agent.presence keeps it current).
    online_agent_ids: list[int]
    # The raised queue alerts of the scope, oldest first (alert.raised / alert.cleared).
    alerts: list[QueueAlertView]


class WallboardUpdateData(Model):
    """The queues whose figures changed, and the totals: one message per update, so a
    broadcast to thousands of wallboards is one write to each."""

    queues: list[QueueBoard]
    totals: BoardTotals


class FloorMonitor(Model):
    """A supervisor's live monitoring session on a call."""

    session: str
    mode: str  # listen, whisper, barge (as the session started)
    supervisor_user_id: int | None
    supervisor_name: str
    started_at: datetime


class FloorCall(Model):
    """A live call as the supervisor page shows it."""

    call: CallView
    # The queue the caller is in now (a caller moved stays counted in call.queue_id's).
    queue_id: int | None
    queue_name: str
    monitors: list[FloorMonitor]


class FloorMembership(Model):
    queue_id: int
    queue_name: str
    penalty: int
    logged_in: bool
    paused: bool
    paused_reason: str


class FloorAgent(Model):
    agent: AgentView
    queues: list[FloorMembership]
    call: FloorCall | None


class FloorQueue(Model):
    id: int
    name: str


class FloorData(Model):
    """The supervisor page's floor: every agent (also those in no queue), the callers
    waiting, the queues. ``floor.update`` carries it whole; it replaces the last."""

    agents: list[FloorAgent]
    waiting: list[FloorCall]
    queues: list[FloorQueue]


class SupervisorSnapshotData(FloorData):
    # Whether the supervisor has a phone to monitor calls with (their agent profile's).
    phone: str
    # The organization's agents with a console open (agent.presence keeps it current).
    online_agent_ids: list[int]
    # The organization's raised queue alerts, oldest first (alert.raised / alert.cleared).
    alerts: list[QueueAlertView]


class AckData(Model):
    id: str
    result: dict[str, Any]


class ErrorData(Model):
    id: str | None
    code: str
    message: str
    details: dict[str, Any] | None = None


class PongData(Model):
    id: str | None
