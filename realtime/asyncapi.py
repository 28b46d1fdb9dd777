"""The WebSocket protocol as an AsyncAPI 3.0 document, built from the code that speaks it.

The payload schemas come from the typed messages (``realtime.messages``) and the
command models (``realtime.protocol``) through pydantic's JSON Schema, so the document
cannot drift from what the server sends and accepts; what this module adds is which
message travels on which stream, one line about each, and the close codes. The
document describes the server: it ``send``s the messages and ``receive``s the commands.
Served at ``/api/asyncapi/`` beside the OpenAPI schema (config/apidocs.py) and written
by ``manage.py asyncapi``; docs/realtime-protocol.md is the prose contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from realtime import messages as msgs
from realtime.protocol import AGENT_COMMANDS, WALLBOARD_COMMANDS, CloseCode, Envelope

SCHEMAS = "#/components/schemas/"


@dataclass(frozen=True)
class Outbound:
    """A message the server sends: its ``type`` (``name``), the model of its ``data``, one
    line."""

    name: str
    data: type[msgs.Model]
    summary: str


_SHARED = [
    Outbound("hello", msgs.HelloData, "First message of every connection: the protocol version."),
    Outbound("error", msgs.ErrorData, "A command or message refused; its id when it had one."),
    Outbound("pong", msgs.PongData, "The answer to ping."),
]
_CALL_SUMMARIES = {
    "call.ringing": "The agent's phone rings for this call (leg offered).",
    "call.answered": "The call is in progress.",
    "call.held": "The call is on hold (held_since).",
    "call.resumed": "The call is off hold.",
    "call.transferred": "The call was transferred (its last timeline entry).",
    "call.ended": "The call is over; it stays for wrap-up until a disposition is set.",
    "call.updated": "Anything else changed: notes, disposition, queue, a fresher pop.",
}
AGENT_SENDS = [
    *_SHARED,
    Outbound("snapshot", msgs.AgentSnapshotData, "Everything the console shows, after hello."),
    Outbound("ack", msgs.AckData, "A command carried out; result per command."),
    Outbound("agent.state", msgs.AgentStateData, "The agent's state changed: replace agent."),
    Outbound("agent.presence", msgs.AgentPresenceData, "The agent came online or went offline."),
    *(
        Outbound(type_, msgs.CallFrameData, _CALL_SUMMARIES[type_])
        for type_ in msgs.CALL_MESSAGE_TYPES
    ),
    Outbound("call.removed", msgs.CallRemovedData, "The call is no longer on this screen."),
    Outbound("queue.stats", msgs.QueueStatsData, "One of the agent's queues' figures, coalesced."),
    Outbound("notification.created", msgs.NotificationCreatedData, "A new notification."),
    Outbound("notification.read", msgs.NotificationReadData, "A notification was read."),
    Outbound("case.created", msgs.CaseCreatedData, "A case assigned to the agent or from a call."),
    Outbound(
        "voicemail.updated",
        msgs.VoicemailUpdatedData,
        "A voicemail of the agent's queues was left, claimed or dealt with.",
    ),
]
WALLBOARD_SENDS = [
    *_SHARED,
    Outbound("snapshot", msgs.WallboardSnapshotData, "The floor's figures, after hello."),
    Outbound("ack", msgs.AckData, "A supervisor's command carried out; result per command."),
    Outbound("wallboard.update", msgs.WallboardUpdateData, "The queues that changed, and totals."),
    Outbound("agent.presence", msgs.AgentPresenceData, "An agent came online or went offline."),
    Outbound("alert.raised", msgs.QueueAlertData, "A queue's figure crossed its alert threshold."),
    Outbound("alert.cleared", msgs.QueueAlertData, "A queue alert's figure is back: it clears."),
]
SUPERVISOR_SENDS = [
    *_SHARED,
    Outbound("snapshot", msgs.SupervisorSnapshotData, "The floor: every agent, after hello."),
    Outbound("ack", msgs.AckData, "A supervisor's command carried out; result per command."),
    Outbound("floor.update", msgs.FloorData, "The whole floor again: replaces the last."),
    Outbound("agent.presence", msgs.AgentPresenceData, "An agent came online or went offline."),
    Outbound("alert.raised", msgs.QueueAlertData, "A queue's figure crossed its alert threshold."),
    Outbound("alert.cleared", msgs.QueueAlertData, "A queue alert's figure is back: it clears."),
]

CLOSE_CODES: dict[CloseCode, str] = {
    CloseCode.NORMAL: "Normal close.",
    CloseCode.INTERNAL_ERROR: "Server error.",
    CloseCode.ORIGIN_REFUSED: "Origin missing or not allowed.",
    CloseCode.MESSAGE_TOO_BIG: "A client message over hello.data.max_message_bytes "
    "(an error message too_big comes first).",
    CloseCode.BAD_REQUEST: "Bad connection parameters (?queue= not a number).",
    CloseCode.UNAUTHENTICATED: "Not authenticated, or the user's sessions were revoked: "
    "sign in again.",
    CloseCode.FORBIDDEN: "Authenticated but not allowed on this stream.",
    CloseCode.NOT_FOUND: "?queue= names no active queue of the caller's organization.",
    CloseCode.TOO_MANY_MESSAGES: "Flooding (an error message flood comes first), or at "
    "connection, nothing sent first: too many sockets for this user. Retry with backoff.",
    CloseCode.LAYER_LOST: "Messages may have been lost: reconnect for a fresh snapshot.",
}


@dataclass(frozen=True)
class Stream:
    name: str
    address: str
    summary: str
    sends: list[Outbound]
    commands: dict[str, type[BaseModel]]
    query: dict[str, Any]
    close_codes: tuple[CloseCode, ...]


_TICKET = {
    "type": "string",
    "description": "A ticket from POST /api/v1/realtime/ticket/ (single use, short-lived); "
    "without it, the session cookie.",
}
_COMMON_CODES = (
    CloseCode.NORMAL,
    CloseCode.INTERNAL_ERROR,
    CloseCode.ORIGIN_REFUSED,
    CloseCode.MESSAGE_TOO_BIG,
    CloseCode.UNAUTHENTICATED,
    CloseCode.FORBIDDEN,
    CloseCode.TOO_MANY_MESSAGES,
    CloseCode.LAYER_LOST,
)
STREAMS = (
    Stream(
        name="agent",
        address="/ws/agent/",
        summary="One agent console tab: its state, calls with the screen pop, queue "
        "figures, notifications and cases; the console commands.",
        sends=AGENT_SENDS,
        commands=dict(AGENT_COMMANDS),
        query={"ticket": _TICKET},
        close_codes=_COMMON_CODES,
    ),
    Stream(
        name="wallboard",
        address="/ws/wallboard/",
        summary="A supervisor's or admin's wallboard: the floor's queue figures, whole "
        "floor or one queue, and who is online; the supervisor's commands (pause, log "
        "out, queue membership, hang up a stuck call).",
        sends=WALLBOARD_SENDS,
        commands=dict(WALLBOARD_COMMANDS),
        query={
            "ticket": _TICKET,
            "queue": {
                "type": "string",
                "pattern": "^[0-9]{1,18}$",
                "description": "One queue's id; absent: the whole floor.",
            },
        },
        close_codes=(*_COMMON_CODES, CloseCode.BAD_REQUEST, CloseCode.NOT_FOUND),
    ),
    Stream(
        name="supervisor",
        address="/ws/supervisor/",
        summary="A supervisor's or admin's supervisor page: every agent of the "
        "organization (also those in no queue) with state, queues and call, the callers "
        "waiting; the supervisor's commands, as on the wallboard.",
        sends=SUPERVISOR_SENDS,
        commands=dict(WALLBOARD_COMMANDS),
        query={"ticket": _TICKET},
        close_codes=_COMMON_CODES,
    ),
)


def _camel(*words: str) -> str:
    parts = [p for w in words for p in w.replace("_", ".").split(".") if p]
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def _schemas() -> dict[str, Any]:
    """Every payload model's JSON Schema, keyed by model name, refs into components."""
    outbound = {f.data for s in STREAMS for f in s.sends}
    inbound = {model for s in STREAMS for model in s.commands.values()} | {Envelope}
    schemas: dict[str, Any] = {}
    for models, mode in ((outbound, "serialization"), (inbound, "validation")):
        ordered = sorted(models, key=lambda m: m.__name__)
        _, top = models_json_schema(
            [(m, mode) for m in ordered],  # type: ignore[misc]
            ref_template=SCHEMAS + "{model}",
        )
        for name, schema in top.get("$defs", {}).items():
            assert schemas.get(name, schema) == schema, f"two schemas named {name}"
            schemas[name] = schema
    return schemas


def _outbound_key(stream: Stream, sent: Outbound) -> str:
    """The outbound message's key: its type, or the stream's name and its type when the
    streams send that type with different data (``snapshot``)."""
    models = {f.data for s in STREAMS for f in s.sends if f.name == sent.name}
    return _camel(sent.name) if len(models) == 1 else _camel(stream.name, sent.name)


def _title(key: str, kind: str) -> str:
    """A payload's name for the code generators (``callRinging`` -> ``CallRingingFrame``)."""
    return key[:1].upper() + key[1:] + kind


def _outbound_payload(sent: Outbound, key: str) -> dict[str, Any]:
    """The envelope every outbound message shares (realtime.consumers.base.emit_encoded)."""
    return {
        "title": _title(key, "Frame"),
        "type": "object",
        "additionalProperties": False,
        "required": ["type", "seq", "ts", "data"],
        "properties": {
            "type": {"type": "string", "const": sent.name},
            "seq": {
                "type": "integer",
                "minimum": 1,
                "description": "1 for hello, then one more per message on this connection.",
            },
            "ts": {"type": "string", "format": "date-time", "description": "When sent, UTC."},
            "data": {"$ref": SCHEMAS + sent.data.__name__},
        },
    }


def _command_payload(type_: str, model: type[BaseModel], envelope: dict[str, Any]) -> Any:
    """The command envelope (realtime.protocol.Envelope) with this command's type and data."""
    properties = dict(envelope["properties"])
    properties["type"] = {"type": "string", "const": type_}
    properties["data"] = {"$ref": SCHEMAS + model.__name__}
    required = ["type"] if type_ == "ping" else ["type", "id"]
    title = _title(_camel(type_), "Command")
    return {**envelope, "title": title, "properties": properties, "required": required}


def _close_table(codes: tuple[CloseCode, ...]) -> str:
    rows = "\n".join(f"| {int(c)} | {CLOSE_CODES[c]} |" for c in sorted(codes))
    return f"Close codes:\n\n| code | when |\n|---|---|\n{rows}"


def asyncapi_document(*, host: str, secure: bool) -> dict[str, Any]:
    """The document for a server reached at ``host`` (``wss`` when ``secure``)."""
    schemas = _schemas()
    envelope = schemas.pop(Envelope.__name__)
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for stream in STREAMS:
        channel_messages: dict[str, Any] = {}
        keys = {sent.name: _outbound_key(stream, sent) for sent in stream.sends}
        for sent in stream.sends:
            key = keys[sent.name]
            messages[key] = {
                "name": sent.name,
                "title": sent.name,
                "summary": sent.summary,
                "payload": _outbound_payload(sent, key),
            }
            channel_messages[key] = {"$ref": f"#/components/messages/{key}"}
        refs = {t: {"$ref": f"#/channels/{stream.name}/messages/{k}"} for t, k in keys.items()}
        for type_, model in stream.commands.items():
            key = _camel(type_) if type_ == "ping" else _camel(type_, "command")
            messages[key] = {
                "name": type_,
                "title": type_,
                "summary": (model.__doc__ or f"The {type_} command.").strip().splitlines()[0],
                "payload": _command_payload(type_, model, envelope),
            }
            channel_messages[key] = {"$ref": f"#/components/messages/{key}"}
            replies = ["pong", "error"] if type_ == "ping" else ["ack", "error"]
            operations[_camel(stream.name, type_)] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{stream.name}"},
                "summary": f"The client sends {type_}; the server answers with "
                + " or ".join(replies)
                + " carrying its id.",
                "messages": [{"$ref": f"#/channels/{stream.name}/messages/{key}"}],
                "reply": {
                    "channel": {"$ref": f"#/channels/{stream.name}"},
                    "messages": [refs[r] for r in replies],
                },
            }
        operations[_camel(stream.name, "frames")] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{stream.name}"},
            "summary": f"Every message the server sends on {stream.address}.",
            "messages": list(refs.values()),
        }
        channels[stream.name] = {
            "address": stream.address,
            "title": stream.name,
            "summary": stream.summary,
            "description": _close_table(stream.close_codes),
            "messages": channel_messages,
            "bindings": {
                "ws": {
                    "method": "GET",
                    "query": {
                        "title": _title(stream.name, "Query"),
                        "type": "object",
                        "properties": stream.query,
                    },
                    "headers": {
                        "title": _title(stream.name, "Headers"),
                        "type": "object",
                        "properties": {
                            "Origin": {
                                "type": "string",
                                "description": "Must match ALLOWED_HOSTS (else 4003).",
                            }
                        },
                        "required": ["Origin"],
                    },
                    "bindingVersion": "0.1.0",
                }
            },
            "x-close-codes": [
                {"code": int(c), "name": c.name, "description": CLOSE_CODES[c]}
                for c in sorted(stream.close_codes)
            ],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Contact center realtime protocol",
            "version": str(msgs.PROTOCOL_VERSION),
            "description": "The agent console and wallboard WebSocket streams. Every message "
            "the server sends is one JSON text {type, seq, ts, data}; every command "
            "{type, id, data}. "
            "On connect the server sends hello then snapshot; a reconnection starts from a "
            "fresh snapshot. The contract in prose: docs/realtime-protocol.md.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "server": {
                "host": host,
                "protocol": "wss" if secure else "ws",
                "description": "The ASGI server that also serves the REST API.",
                "security": [
                    {"$ref": "#/components/securitySchemes/ticket"},
                    {"$ref": "#/components/securitySchemes/session"},
                ],
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "securitySchemes": {
                "ticket": {
                    "type": "httpApiKey",
                    "name": "ticket",
                    "in": "query",
                    "description": "POST /api/v1/realtime/ticket/ with the REST credentials "
                    "(JWT or session) answers {ticket, expires_in}: open the socket with "
                    "?ticket= within expires_in seconds. One ticket opens one connection; "
                    "a bad, expired, used or revoked one is closed with 4401.",
                },
                "session": {
                    "type": "httpApiKey",
                    "name": settings.SESSION_COOKIE_NAME,
                    "in": "cookie",
                    "description": "The Django session cookie of a browser signed in to the "
                    "site (used when no ?ticket= is given).",
                },
            },
        },
    }
