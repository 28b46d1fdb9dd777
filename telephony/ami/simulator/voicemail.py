"""A queue's caller who reaches the voicemail exit, as Asterisk 18 to 22 report it.

The caller waits in the queue until ``Queue()`` gives them back (its timeout:
``QueueCallerLeave``), then the dialplan runs ``VoiceMail(support@queues,u)``:
``VarSet VM_MESSAGEFILE`` (the message's path, no extension) before the beep, the
message, then ``MessageWaiting`` (the mailbox, on the caller's channel) and
``VarSet VMSTATUS=SUCCESS`` as the application returns, and the caller hangs up. A
caller who hangs up before saying anything leaves no message: app_voicemail deletes
it, and reports neither ``MessageWaiting`` nor ``SUCCESS``. With ``spool_dir`` (this
host's view of ``/var/spool/asterisk/voicemail``) the message is written there: a
short tone and app_voicemail's ``.txt``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from telephony.ami.simulator.calls import finish, inbound_arrive, queue_join, queue_leave
from telephony.ami.simulator.clock import Script
from telephony.ami.simulator.pbx import PbxModel
from telephony.ami.simulator.recording import tone_wav

VOICEMAIL_DIR = "/var/spool/asterisk/voicemail"
_numbers = itertools.count()


@dataclass(frozen=True)
class VoicemailPlan:
    caller_num: str
    caller_name: str = ""
    queue: str = "support"
    wait: float = 2.0  # in the queue, unanswered, until Queue() times out
    mailbox: str = "support@queues"
    message: float = 3.0  # how long the caller speaks
    leaves_message: bool = True  # False: the caller hangs up at the beep
    spool_dir: str | None = None


def _message_path(mailbox: str) -> str:
    box, _, context = mailbox.partition("@")
    return f"{VOICEMAIL_DIR}/{context or 'default'}/{box}/INBOX/msg{next(_numbers) % 10000:04d}"


def _write(spool_dir: str, path: str, caller: str, seconds: float) -> None:
    spool = Path(spool_dir).resolve()
    target = (spool / Path(path).relative_to(VOICEMAIL_DIR)).resolve()
    if not target.is_relative_to(spool):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.with_name(f"{target.name}.wav").write_bytes(tone_wav(seconds))
    target.with_name(f"{target.name}.txt").write_text(
        f";\n; Message Information file\n;\n[message]\ncallerid=<{caller}>\n"
        f"duration={int(seconds)}\n"
    )


def voicemail_call(pbx: PbxModel, plan: VoicemailPlan) -> Script:
    call = inbound_arrive(pbx, plan.caller_num, plan.caller_name)
    yield 0.05
    if call.ended:
        return
    queue_join(pbx, call, pbx.queues[plan.queue])
    yield plan.wait
    if call.ended:
        return
    caller = call.caller
    queue_leave(pbx, call)  # app_queue's timeout: the caller goes on in the dialplan
    pbx.moh_stop(caller)
    pbx.newexten(caller, "VoiceMail", f"{plan.mailbox},u", 3)
    call.last_app, call.last_data = "VoiceMail", f"{plan.mailbox},u"
    path = _message_path(plan.mailbox)
    file_var = [("Variable", "VM_MESSAGEFILE"), ("Value", path)]
    pbx.emit_channel("VarSet", caller, file_var, privilege="dialplan")
    yield plan.message
    if call.ended:
        return
    if plan.leaves_message:
        if plan.spool_dir:
            _write(plan.spool_dir, path, plan.caller_num, plan.message)
        waiting = [("Mailbox", plan.mailbox), ("Waiting", "1"), ("New", "1"), ("Old", "0")]
        pbx.emit_channel("MessageWaiting", caller, waiting)
        status = [("Variable", "VMSTATUS"), ("Value", "SUCCESS")]
        pbx.emit_channel("VarSet", caller, status, privilege="dialplan")
        yield 0.01
        pbx.soft_hangup_request(caller, 16)  # the dialplan's Hangup()
    else:
        pbx.hangup_request(caller, 16)
    finish(pbx, call, [caller])
