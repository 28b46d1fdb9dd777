"""AMI actions the PBX model answers: status lists and queue membership.

Responses use the texts of manager.c and app_queue.c (docs/ami.md §5). The events
an action causes are emitted here too; the session writes them after the response.
Call-control actions (Originate, Hangup, Redirect, transfers) live in call_actions.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telephony.ami.frames import AmiMessage
from telephony.ami.simulator.call_actions import CallActions, OriginateBehaviour
from telephony.ami.simulator.channels import DeviceState
from telephony.ami.simulator.clock import USEC, Agenda
from telephony.ami.simulator.control import INBOUND_CALL, VOICEMAIL_CALL, ControlActions
from telephony.ami.simulator.pbx import PbxModel
from telephony.ami.simulator.queues import Member
from telephony.ami.simulator.recording import RecordingActions
from telephony.ami.simulator.session import response

__all__ = ["ActionHandlers", "OriginateBehaviour", "is_true"]

Reply = list[AmiMessage]
Handler = Callable[[AmiMessage], Awaitable[Reply]]


def is_true(value: str | None) -> bool:
    """Asterisk's ast_true: yes, true, y, t, 1, on."""
    return (value or "").strip().lower() in {"yes", "true", "y", "t", "1", "on"}


def list_ack(action_id: str | None, message: str) -> AmiMessage:
    return response(action_id, "Success", ("EventList", "start"), ("Message", message))


def list_complete(event: str, action_id: str | None, count: int) -> AmiMessage:
    fields = [("Event", event)]
    if action_id is not None:
        fields.append(("ActionID", action_id))
    fields += [("EventList", "Complete"), ("ListItems", str(count))]
    return AmiMessage(tuple(fields))


def list_item(event: str, body: list[tuple[str, str]], action_id: str | None) -> AmiMessage:
    """An app_queue list item: ``ActionID`` comes last (manager_queues_status)."""
    tail = [("ActionID", action_id)] if action_id is not None else []
    return AmiMessage((("Event", event), *body, *tail))


def error(action_id: str | None, message: str) -> Reply:
    return [response(action_id, "Error", ("Message", message))]


def success(action_id: str | None, message: str) -> Reply:
    return [response(action_id, "Success", ("Message", message))]


def _duration(seconds: int) -> str:
    hours, rest = divmod(max(0, seconds), 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


class ActionHandlers:
    def __init__(
        self,
        pbx: PbxModel,
        agenda: Agenda,
        originate: OriginateBehaviour,
        *,
        control: bool = False,
        monitor_dir: str | None = None,
    ) -> None:
        self.pbx = pbx
        self.calls = CallActions(pbx, agenda, originate)
        self.recordings = RecordingActions(pbx, monitor_dir)
        self._table: dict[str, Handler] = {
            "coreshowchannels": self.core_show_channels,
            "queuestatus": self.queue_status,
            "queuesummary": self.queue_summary,
            "queuepause": self.queue_pause,
            "queueadd": self.queue_add,
            "queueremove": self.queue_remove,
            "originate": self.calls.originate,
            "hangup": self.calls.hangup,
            "redirect": self.calls.redirect,
            "playdtmf": self.calls.play_dtmf,
            "blindtransfer": self.calls.blind_transfer,
            "atxfer": self.calls.atxfer,
            "mixmonitor": self.recordings.mixmonitor,
            "mixmonitormute": self.recordings.mixmonitor_mute,
            "stopmixmonitor": self.recordings.stop_mixmonitor,
        }
        if control:  # simulator-only actions (control.py), off unless asked for
            controls = ControlActions(pbx, agenda)
            self._table[INBOUND_CALL] = controls.inbound_call
            self._table[VOICEMAIL_CALL] = controls.voicemail_call

    @property
    def names(self) -> list[str]:
        return sorted(self._table)

    async def handle(self, action: AmiMessage) -> Reply | None:
        """The response messages, or None for an action this PBX does not know."""
        handler = self._table.get((action.action or "").lower())
        if handler is None:
            return None
        replies = await handler(action)
        self.pbx.flush_devices()
        return replies

    async def core_show_channels(self, action: AmiMessage) -> Reply:
        action_id = action.action_id
        now = self.pbx.clock.now()
        items = []
        for channel in self.pbx.channels.values():
            fields = [("Event", "CoreShowChannel")]
            if action_id is not None:
                # CoreShowChannel is the one list item with ActionID right after Event.
                fields.append(("ActionID", action_id))
            fields += channel.block()
            fields += [
                ("Application", channel.application),
                ("ApplicationData", channel.app_data),
                ("Duration", _duration((now - channel.created_usec) // USEC)),
                ("BridgeId", channel.bridge.uniqueid if channel.bridge else ""),
            ]
            items.append(AmiMessage(tuple(fields)))
        return [
            list_ack(action_id, "Channels will follow"),
            *items,
            list_complete("CoreShowChannelsComplete", action_id, len(items)),
        ]

    async def queue_status(self, action: AmiMessage) -> Reply:
        action_id = action.action_id
        wanted_queue = action.get("Queue") or ""
        wanted_member = action.get("Member") or ""
        now = self.pbx.clock.now()
        items: list[AmiMessage] = []
        for queue in self.pbx.queues.values():
            if wanted_queue and queue.name != wanted_queue:
                continue
            items.append(list_item("QueueParams", queue.params_item(), action_id))
            for member in queue.members.values():
                if wanted_member and wanted_member not in (member.interface, member.name):
                    continue
                status = self.pbx.member_status(member)
                items.append(list_item("QueueMember", member.status_item(status), action_id))
            for entry in queue.entry_items(now):
                items.append(list_item("QueueEntry", entry, action_id))
        return [
            list_ack(action_id, "Queue status will follow"),
            *items,
            list_complete("QueueStatusComplete", action_id, len(items)),
        ]

    async def queue_summary(self, action: AmiMessage) -> Reply:
        action_id = action.action_id
        wanted = action.get("Queue") or ""
        statuses = self.pbx.snapshot_statuses()
        now = self.pbx.clock.now()
        items = [
            list_item("QueueSummary", queue.summary_item(statuses, now), action_id)
            for queue in self.pbx.queues.values()
            if not wanted or queue.name == wanted
        ]
        return [
            list_ack(action_id, "Queue summary will follow"),
            *items,
            list_complete("QueueSummaryComplete", action_id, len(items)),
        ]

    async def queue_pause(self, action: AmiMessage) -> Reply:
        action_id = action.action_id
        interface = action.get("Interface") or ""
        paused_value = action.get("Paused")
        if not interface or not paused_value:
            return error(action_id, "Need 'Interface' and 'Paused' parameters.")
        queue_name = action.get("Queue") or ""
        paused = is_true(paused_value)
        reason = action.get("Reason") or ""
        members = [
            (queue, queue.members[interface])
            for queue in self.pbx.queues.values()
            if interface in queue.members and (not queue_name or queue.name == queue_name)
        ]
        if not members:
            return error(action_id, "Interface not found")
        for queue, member in members:
            self.set_paused(member, paused, reason)
            self.pbx.refresh_queue_avail(queue)
        state = "paused" if paused else "unpaused"
        return success(action_id, f"Interface {state} successfully")

    def set_paused(self, member: Member, paused: bool, reason: str) -> None:
        """One QueueMemberPause per queue, then app_queue's pause device state."""
        member.paused = paused
        member.paused_reason = reason if paused else ""
        if paused:
            member.last_pause = self.pbx.now_seconds()
        self.pbx.emit_member("QueueMemberPause", member)
        device = f"Queue:{member.queue}_pause_{member.interface}"
        self.pbx.set_custom_device(device, DeviceState.INUSE if paused else DeviceState.NOT_INUSE)

    async def queue_add(self, action: AmiMessage) -> Reply:
        action_id = action.action_id
        queue_name = action.get("Queue") or ""
        interface = action.get("Interface") or ""
        if not queue_name:
            return error(action_id, "'Queue' not specified.")
        if not interface:
            return error(action_id, "'Interface' not specified.")
        queue = self.pbx.queues.get(queue_name)
        if queue is None:
            return error(action_id, "Unable to add interface to queue: No such queue")
        if interface in queue.members:
            return error(action_id, "Unable to add interface: Already there")
        paused = is_true(action.get("Paused"))
        member = Member(
            queue=queue.name,
            interface=interface,
            name=action.get("MemberName") or interface,
            state_interface=action.get("StateInterface") or interface,
            login_time=self.pbx.now_seconds(),
            penalty=int(action.get("Penalty") or 0),
            paused=paused,
            paused_reason=(action.get("Reason") or "") if paused else "",
        )
        queue.members[interface] = member
        self.pbx.emit_member("QueueMemberAdded", member)
        self.pbx.refresh_queue_avail(queue)
        return success(action_id, "Added interface to queue")

    async def queue_remove(self, action: AmiMessage) -> Reply:
        action_id = action.action_id
        queue_name = action.get("Queue") or ""
        interface = action.get("Interface") or ""
        if not queue_name or not interface:
            return error(action_id, "Need 'Queue' and 'Interface' parameters.")
        queue = self.pbx.queues.get(queue_name)
        if queue is None:
            return error(action_id, "Unable to remove interface from queue: No such queue")
        member = queue.members.get(interface)
        if member is None:
            return error(action_id, "Unable to remove interface: Not there")
        if member.membership != "dynamic":
            return error(action_id, "Unable to remove interface: Member not dynamic")
        self.pbx.emit_member("QueueMemberRemoved", member)
        del queue.members[interface]
        self.pbx.refresh_queue_avail(queue)
        return success(action_id, "Removed interface from queue")
