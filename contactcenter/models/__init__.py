from contactcenter.models import lookups as lookups  # registers field__any
from contactcenter.models.agents import Agent, AgentStateLog
from contactcenter.models.alerts import QueueAlert
from contactcenter.models.apikeys import APIKey
from contactcenter.models.audit import ActorKind, AuditEntry
from contactcenter.models.base import TenantModel, TenantQuerySet
from contactcenter.models.callbacks import Callback, CallbackStatus
from contactcenter.models.calls import Call, CallDisposition, CallEvent, CallTransfer
from contactcenter.models.invitations import Invitation
from contactcenter.models.queues import CallQueue, QueueMembership
from contactcenter.models.recordings import Recording
from contactcenter.models.reports import AgentDayStats, DailyRollup, QueueDayStats
from contactcenter.models.tenancy import Membership, Organization, User
from contactcenter.models.voicemails import Voicemail, VoicemailMedia, VoicemailStatus

__all__ = [
    "APIKey",
    "ActorKind",
    "Agent",
    "AgentDayStats",
    "AgentStateLog",
    "AuditEntry",
    "Call",
    "CallDisposition",
    "CallEvent",
    "CallQueue",
    "CallTransfer",
    "Callback",
    "CallbackStatus",
    "DailyRollup",
    "Invitation",
    "Membership",
    "Organization",
    "QueueAlert",
    "QueueDayStats",
    "QueueMembership",
    "Recording",
    "TenantModel",
    "TenantQuerySet",
    "User",
    "Voicemail",
    "VoicemailMedia",
    "VoicemailStatus",
]
