"""The closed vocabularies of the domain. Stored values are stable API contract."""

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    SUPERVISOR = "supervisor", "Supervisor"
    AGENT = "agent", "Agent"


class AgentState(models.TextChoices):
    OFFLINE = "offline", "Offline"
    AVAILABLE = "available", "Available"
    RINGING = "ringing", "Ringing"
    ON_CALL = "on_call", "On call"
    WRAP_UP = "wrap_up", "Wrap-up"
    PAUSED = "paused", "Paused"


class QueueStrategy(models.TextChoices):
    # The names are app_queue's, so a queue record maps 1:1 to queues.conf.
    RINGALL = "ringall", "Ring all"
    LEASTRECENT = "leastrecent", "Least recent"
    FEWESTCALLS = "fewestcalls", "Fewest calls"
    RANDOM = "random", "Random"
    RRMEMORY = "rrmemory", "Round robin with memory"
    LINEAR = "linear", "Linear"
    WRANDOM = "wrandom", "Weighted random"


class QueueMaxWaitAction(models.TextChoices):
    """What a Twilio queue does with a caller who waited ``max_wait_seconds`` (or is left
    alone by ``leave_empty``); app_queue leaves that to the dialplan after Queue()."""

    STAY = "stay", "Keep waiting"
    VOICEMAIL = "voicemail", "Leave a voicemail"
    CALLBACK = "callback", "Offer a callback"
    QUEUE = "queue", "Move to another queue"
    HANGUP = "hangup", "Hang up with a message"


class CallSource(models.TextChoices):
    ASTERISK = "asterisk", "Asterisk"
    TWILIO = "twilio", "Twilio"


class CallDirection(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"
    INTERNAL = "internal", "Internal"


class CallStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RINGING = "ringing", "Ringing"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    ABANDONED = "abandoned", "Abandoned"
    NO_ANSWER = "no_answer", "No answer"
    BUSY = "busy", "Busy"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"
    # The caller left the queue unanswered to be called back (a Callback keeps their
    # place): neither answered nor abandoned in the queue's figures (docs/callbacks.md).
    CALLBACK = "callback", "Callback requested"


class CallEventType(models.TextChoices):
    CREATED = "call.created", "Call created"
    QUEUE_JOINED = "queue.joined", "Joined queue"
    QUEUE_LEFT = "queue.left", "Left queue"
    QUEUE_ABANDONED = "queue.abandoned", "Abandoned in queue"
    CALLBACK_REQUESTED = "callback.requested", "Asked to be called back"
    AGENT_CALLED = "agent.called", "Agent rung"
    AGENT_RING_NO_ANSWER = "agent.ring_no_answer", "Agent did not answer"
    AGENT_OFFER_ENDED = "agent.offer_ended", "Agent attempt ended (canceled, busy, failed)"
    AGENT_CONNECTED = "agent.connected", "Agent connected"
    AGENT_COMPLETED = "agent.completed", "Agent completed"
    ANSWERED = "call.answered", "Answered"
    HELD = "call.held", "Put on hold"
    RESUMED = "call.resumed", "Resumed from hold"
    TRANSFER_STARTED = "transfer.started", "Transfer started"
    TRANSFER_COMPLETED = "transfer.completed", "Transfer completed"
    TRANSFER_FAILED = "transfer.failed", "Transfer failed"
    LEG_ADDED = "leg.added", "Leg added"
    LEG_ENDED = "leg.ended", "Leg ended"
    HANGUP = "call.hangup", "Hung up"
    ENDED = "call.ended", "Ended"
    RESYNCED = "call.resynced", "Reconciled after reconnect"
    CLOSED_STALE = "call.closed_stale", "Closed: hangup never seen"
    DISPOSITION_SET = "disposition.set", "Disposition set"
    NOTES_UPDATED = "notes.updated", "Notes updated"
    RECORDING = "call.recording", "Recording available"
    RECORDING_STARTED = "recording.started", "Recording started"
    RECORDING_PAUSED = "recording.paused", "Recording paused"
    RECORDING_RESUMED = "recording.resumed", "Recording resumed"
    RECORDING_STOPPED = "recording.stopped", "Recording stopped"
    MONITOR_STARTED = "monitor.started", "Supervisor started monitoring"
    MONITOR_STOPPED = "monitor.stopped", "Supervisor stopped monitoring"
    MONITOR_MODE_CHANGED = "monitor.mode_changed", "Supervisor switched monitoring mode"


# A supervisor's monitoring sessions: on the timeline for the floor, not for the agent.
MONITOR_EVENT_TYPES = frozenset(
    {
        CallEventType.MONITOR_STARTED,
        CallEventType.MONITOR_STOPPED,
        CallEventType.MONITOR_MODE_CHANGED,
    }
)


class TransferKind(models.TextChoices):
    BLIND = "blind", "Blind"
    ATTENDED = "attended", "Attended"


class TransferStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    RINGING = "ringing", "Ringing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


class HangupParty(models.TextChoices):
    CALLER = "caller", "Caller"
    AGENT = "agent", "Agent"
    SYSTEM = "system", "System"
    TRANSFER = "transfer", "Transfer"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"


class RecordingPolicy(models.TextChoices):
    """Which calls are recorded; a queue's blank policy is its organization's."""

    ALL = "all", "Record every answered call"
    NONE = "none", "Record nothing"
    ON_DEMAND = "on_demand", "Record when asked"


class RecordingStatus(models.TextChoices):
    RECORDING = "recording", "Recording"
    PAUSED = "paused", "Paused"
    # The call is over; the file has not reached the store yet.
    ENDED = "ended", "Waiting for the file"
    DONE = "done", "Stored"
    FAILED = "failed", "Failed"
    PURGED = "purged", "Purged"


class CasePriority(models.TextChoices):
    """A case's priority (crm), and the one a disposition gives the case it opens."""

    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"
