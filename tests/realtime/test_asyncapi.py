"""The AsyncAPI document of the WebSocket protocol (realtime/asyncapi.py).

It is checked three ways: against the official AsyncAPI 3.0 JSON Schema (vendored
beside this file from the npm package @asyncapi/specs 6.11.1, license beside it); for
completeness against the code (every message model, call message type, command and close
code is in it); and against the wire: real console and wallboard sockets go through a
call's life, and every message they receive and every command they send must validate
against the document's message of that type on that channel.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from jsonschema import Draft7Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from contactcenter import facts as te
from contactcenter.models import CallDisposition, CallQueue
from contactcenter.selectors.wallboard import figures_by_queue
from realtime import messages as msgs
from realtime.asyncapi import CLOSE_CODES, asyncapi_document
from realtime.protocol import AGENT_COMMANDS, WALLBOARD_COMMANDS, CloseCode
from tests.crm.factories import make_case, make_contact
from tests.realtime.script import CallScript, apply
from tests.realtime.support import Socket, open_agent, session_cookie, sync

ASYNCAPI_SCHEMA = Path(__file__).with_name("asyncapi-3.0.0.schema.json")
DOCUMENT = "urn:contactcenter:asyncapi"


def document() -> dict[str, Any]:
    return asyncapi_document(host="testserver", secure=False)


def refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return found + [r for v in value.values() for r in refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in refs(v)]
    return []


def resolve(doc: dict[str, Any], ref: str) -> Any:
    """What a local reference points at, following references to references."""
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    if isinstance(node, dict) and set(node) == {"$ref"}:
        return resolve(doc, node["$ref"])
    return node


def channel_messages(doc: dict[str, Any], channel: str) -> dict[str, dict[str, Any]]:
    """The channel's messages by wire type, each with the key it has in components."""
    found: dict[str, dict[str, Any]] = {}
    for ref in doc["channels"][channel]["messages"].values():
        key = ref["$ref"].rsplit("/", 1)[1]
        message = resolve(doc, ref["$ref"])
        assert message["name"] not in found, f"two messages named {message['name']}"
        found[message["name"]] = {**message, "key": key}
    return found


def outbound(doc: dict[str, Any], channel: str) -> set[str]:
    """The types the server sends on the channel: its ``send`` operation's messages."""
    sends = [op for op in doc["operations"].values() if op["action"] == "send"]
    (operation,) = [op for op in sends if op["channel"]["$ref"] == f"#/channels/{channel}"]
    return {resolve(doc, ref["$ref"])["name"] for ref in operation["messages"]}


def inbound(doc: dict[str, Any], channel: str) -> set[str]:
    receives = [op for op in doc["operations"].values() if op["action"] == "receive"]
    return {
        resolve(doc, ref["$ref"])["name"]
        for op in receives
        if op["channel"]["$ref"] == f"#/channels/{channel}"
        for ref in op["messages"]
    }


class Wire:
    """Validates messages and commands against the document's messages."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        resource = Resource.from_contents(doc, default_specification=DRAFT7)
        self.registry: Registry[Any] = Registry().with_resource(DOCUMENT, resource)

    def validator(self, channel: str, type_: str) -> Draft7Validator:
        message = channel_messages(self.doc, channel).get(type_)
        assert message is not None, f"{type_} is not in the {channel} channel"
        pointer = f"{DOCUMENT}#/components/messages/{message['key']}/payload"
        return Draft7Validator(
            {"$ref": pointer},
            registry=self.registry,
            format_checker=Draft7Validator.FORMAT_CHECKER,
        )

    def check(self, channel: str, payload: dict[str, Any]) -> None:
        self.validator(channel, payload["type"]).validate(payload)


def test_the_document_is_valid_asyncapi_3() -> None:
    doc = document()
    Draft7Validator(json.loads(ASYNCAPI_SCHEMA.read_text())).validate(doc)
    # The official schema does not follow references: each must land on something.
    for ref in refs(doc):
        assert resolve(doc, ref) is not None, ref
    # Payloads are JSON Schema draft-07 (AsyncAPI's schema object is its superset).
    for schema in doc["components"]["schemas"].values():
        Draft7Validator.check_schema(schema)
    for message in doc["components"]["messages"].values():
        Draft7Validator.check_schema(message["payload"])
    assert doc["info"]["version"] == str(msgs.PROTOCOL_VERSION)
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == {"/ws/agent/", "/ws/wallboard/", "/ws/supervisor/"}


def test_the_official_schema_refuses_a_broken_document() -> None:
    """The vendored schema really checks: a document with a wrong field fails it."""
    validator = Draft7Validator(json.loads(ASYNCAPI_SCHEMA.read_text()))
    for path, value in [
        (("operations", "agentFrames", "action"), "publish"),  # AsyncAPI 2's word
        (("components", "securitySchemes", "ticket", "in"), "body"),
        (("servers", "server", "protocol"), 5),
    ]:
        doc = document()
        node: Any = doc
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        assert not validator.is_valid(doc), path


def test_every_message_model_command_and_close_code_is_in_the_document() -> None:
    doc = document()
    data_models = {
        name
        for name, value in vars(msgs).items()
        if isinstance(value, type) and issubclass(value, msgs.Model) and name.endswith("Data")
    }
    payload_refs = {
        message["payload"]["properties"]["data"]["$ref"].rsplit("/", 1)[1]
        for message in doc["components"]["messages"].values()
    }
    assert data_models <= payload_refs, data_models - payload_refs
    agent_types = outbound(doc, "agent")
    assert set(msgs.CALL_MESSAGE_TYPES) | {"call.removed", "hello", "snapshot"} <= agent_types
    assert inbound(doc, "agent") == set(AGENT_COMMANDS)
    assert inbound(doc, "wallboard") == set(WALLBOARD_COMMANDS)
    assert inbound(doc, "supervisor") == set(WALLBOARD_COMMANDS)
    assert set(CLOSE_CODES) == set(CloseCode)
    channels = doc["channels"].values()
    documented = {c["code"] for channel in channels for c in channel["x-close-codes"]}
    assert documented == {int(c) for c in CloseCode}
    # Each command is answered on its own channel: ack or error, pong or error for ping.
    for operation in doc["operations"].values():
        if operation["action"] == "receive":
            replies = {resolve(doc, r["$ref"])["name"] for r in operation["reply"]["messages"]}
            names = {resolve(doc, r["$ref"])["name"] for r in operation["messages"]}
            assert replies == ({"pong", "error"} if names == {"ping"} else {"ack", "error"})


def of_type(type_: str) -> Any:
    return lambda message: message["type"] == type_


@pytest.mark.django_db(transaction=True)
async def test_what_real_sockets_send_and_receive_is_in_the_document(desk: Any) -> None:
    wire = Wire(document())
    sent: dict[str, list[dict[str, Any]]] = {"agent": [], "wallboard": [], "supervisor": []}

    async def command(socket: Socket, channel: str, type_: str, data: Any, id_: str) -> Any:
        sent[channel].append({"type": type_, "id": id_, "data": data})
        answer = await socket.command(type_, data, id_=id_)
        assert answer["type"] == "ack", answer
        return answer

    @sync
    def prepare() -> int:
        make_contact(desk.org, "+15557654321", first_name="Ada")
        return CallDisposition.objects.create(organization=desk.org, name="Sale", code="sale").pk

    sale = await prepare()
    me, colleague = desk.agent.interface, desk.other_agent.interface
    board = Socket("/ws/wallboard/", cookie=await session_cookie(desk.supervisor.user))
    assert (await board.open())[0]
    await board.expect("snapshot")
    floor = Socket("/ws/supervisor/", cookie=await session_cookie(desk.supervisor.user))
    assert (await floor.open())[0]
    await floor.expect("snapshot")
    console, _ = await open_agent(await session_cookie(desk.agent_member.user))
    await console.until(of_type("agent.presence"))
    await board.until(of_type("agent.presence"))
    colleague_console, _ = await open_agent(await session_cookie(desk.other_agent.user))

    await command(console, "agent", "agent.set_state", {"state": "paused", "reason": "lunch"}, "s")
    await console.until(of_type("agent.state"))
    call = CallScript()
    await apply(desk.org, call.started(), call.queued(), call.offered(me))
    call_id = (await console.until(of_type("call.ringing")))["data"]["call"]["id"]
    steps: list[tuple[Any, str]] = [
        (call.answered(me), "call.answered"),
        (call.held(me), "call.held"),
        (call.resumed(me), "call.resumed"),
        (call.transferred(me, colleague), "call.transferred"),
    ]
    for fact, type_ in steps:
        await apply(desk.org, fact)
        await console.until(of_type(type_))
    await command(console, "agent", "call.set_notes", {"call_id": call_id, "notes": "n"}, "n")
    await console.until(of_type("call.updated"))
    await apply(desk.org, call.completed(me), call.answered(colleague))
    await apply(desk.org, call.completed(colleague), call.ended())
    await console.until(of_type("call.ended"))
    disposition = {"call_id": call_id, "disposition_id": sale}
    await command(console, "agent", "call.set_disposition", disposition, "d")
    await console.until(of_type("call.removed"))
    await console.until(of_type("queue.stats"))
    await board.until(of_type("wallboard.update"))

    await sync(make_case)(desk.org, "Callback", assigned_agent=desk.agent)
    await console.until(of_type("case.created"))
    created = await console.until(of_type("notification.created"))
    read = {"notification_id": created["data"]["notification"]["id"]}
    await command(console, "agent", "notification.mark_read", read, "r")
    await console.until(of_type("notification.read"))

    # A caller of the agent's queue leaves a voicemail (contactcenter/services/voicemails.py).
    left = CallScript()
    await apply(desk.org, left.started(), left.queued())
    message = te.VoicemailLeft(
        call_key=left.key, at=left.now, dedup_key=f"{left.key}:vm", leg_id=left.key
    )
    await apply(desk.org, message)
    await console.until(of_type("voicemail.updated"))

    # A queue alert raised, and cleared once the caller gave up (docs/supervisor.md#alerts).
    @sync
    def alert_above_the_callers_waiting_now() -> None:
        (figures,) = figures_by_queue(organization=desk.org, queue_ids=[desk.queue.pk])
        alert = {"alert_callers_waiting": figures.callers_waiting}
        CallQueue.objects.filter(pk=desk.queue.pk).update(**alert)

    await alert_above_the_callers_waiting_now()
    with override_settings(QUEUE_ALERT_CLEAR_SECONDS=0):
        waiting = CallScript()
        await apply(desk.org, waiting.started(), waiting.queued())
        await board.until(of_type("alert.raised"))
        await apply(desk.org, waiting.abandoned(), waiting.ended())
        await board.until(of_type("alert.cleared"))
        await floor.until(of_type("alert.cleared"))  # the supervisor page hears them too

    # A supervisor's command (no PBX here: the pause is the state alone).
    pause = {"agent_id": desk.other_agent.pk, "paused": True, "reason": "coaching"}
    await command(board, "wallboard", "agent.pause", pause, "sp")
    resume = {"agent_id": desk.other_agent.pk, "paused": False}
    await command(floor, "supervisor", "agent.pause", resume, "sr")
    await floor.until(of_type("floor.update"))

    for socket, channel in ((console, "agent"), (board, "wallboard"), (floor, "supervisor")):
        sent[channel].append({"type": "ping", "id": "p"})
        await socket.send(sent[channel][-1])
        await socket.until(of_type("pong"))
        await socket.send("not json")
        await socket.until(of_type("error"))
    # Every command this test sends, and their form without the optional parts.
    sent["agent"].append({"type": "ping"})
    for type_, data in [
        ("call.originate", {"number": "+15551234567"}),
        ("call.hangup", {"call_id": call_id}),
        ("call.transfer", {"call_id": call_id, "target": "1002", "kind": "blind"}),
        ("call.recording_pause", {"call_id": call_id, "paused": True}),
        ("call.recording_start", {"call_id": call_id}),
    ]:
        sent["agent"].append({"type": type_, "id": "x", "data": data})
    agent, queue = desk.other_agent.pk, desk.queue.pk
    for type_, data in [
        ("agent.pause", {"agent_id": agent, "paused": False}),
        ("agent.log_out", {"agent_id": agent}),
        ("agent.queue_add", {"agent_id": agent, "queue_id": queue, "penalty": 2}),
        ("agent.queue_remove", {"agent_id": agent, "queue_id": queue}),
        ("call.force_hangup", {"call_id": call_id}),
        ("call.monitor", {"call_id": call_id, "mode": "whisper"}),
        ("call.monitor_stop", {"call_id": call_id}),
        ("call.move", {"call_id": call_id, "agent_id": agent}),
    ]:
        sent["wallboard"].append({"type": type_, "id": "x", "data": data})

    heard = {
        "agent": console.messages + colleague_console.messages,
        "wallboard": board.messages,
        "supervisor": floor.messages,
    }
    for channel in ("agent", "wallboard", "supervisor"):
        for received in heard[channel]:
            wire.check(channel, received)
        for payload in sent[channel]:
            wire.check(channel, payload)
        # What the sockets heard is exactly what the document says each stream sends.
        assert {f["type"] for f in heard[channel]} == outbound(wire.doc, channel), channel
    assert {p["type"] for p in sent["agent"]} == set(AGENT_COMMANDS)
    assert {p["type"] for p in sent["wallboard"]} == set(WALLBOARD_COMMANDS)

    # The schemas are strict: a field the models do not have, or a wrong type, fails.
    ringing = next(f for f in console.messages if f["type"] == "call.ringing")
    extra = {**ringing, "data": {**ringing["data"], "call": {**ringing["data"]["call"], "x": 1}}}
    with pytest.raises(ValidationError):
        wire.check("agent", extra)
    with pytest.raises(ValidationError):
        wire.check("agent", {**ringing, "seq": "1"})
    with pytest.raises(ValidationError):
        wire.check("agent", {"type": "call.hangup", "id": "x", "data": {"call_id": "12"}})
    for socket in (console, colleague_console, board, floor):
        await socket.close()


@pytest.mark.django_db
def test_the_document_is_served_as_yaml_and_json(settings: Any) -> None:
    """Who may read it: tests/config/test_edge_access.py, with the OpenAPI schema."""
    settings.API_DOCS_PUBLIC = True
    served = Client().get("/api/asyncapi/", {"format": "json"})
    assert served.status_code == 200
    assert served["Content-Type"].startswith("application/json")
    assert json.loads(served.content) == document()  # for the host the request named
    yaml = Client().get("/api/asyncapi/")
    assert yaml.status_code == 200
    assert yaml["Content-Type"].startswith("application/yaml")
    assert yaml.content.startswith(b"asyncapi: 3.0.0\n")


def test_manage_py_asyncapi_writes_the_document(tmp_path: Path, settings: Any) -> None:
    settings.PUBLIC_URL = "https://cc.example.com"
    target = tmp_path / "asyncapi.json"
    call_command("asyncapi", "--format", "json", "--file", str(target))
    written = json.loads(target.read_text())
    assert written == asyncapi_document(host="cc.example.com", secure=True)
    assert written["servers"]["server"]["protocol"] == "wss"
    call_command("asyncapi", "--file", str(tmp_path / "asyncapi.yaml"), "--host", "h:8000")
    assert (tmp_path / "asyncapi.yaml").read_text().startswith("asyncapi: 3.0.0\n")
