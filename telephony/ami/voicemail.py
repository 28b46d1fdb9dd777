"""app_voicemail as the PBX reports it: the Translator's rules for voicemails left.

A queue's caller sent to ``VoiceMail(1000@default)`` (the queue's timeout exit in the
dialplan, deploy/asterisk/extensions.conf) leaves a message. Asterisk says so on the
caller's channel: ``VarSet VM_MESSAGEFILE`` (the message's path without its format
extension), then ``MessageWaiting`` (the mailbox, raised with the caller's channel, not
the mailbox owner's) and ``VarSet VMSTATUS=SUCCESS`` as ``VoiceMail()`` returns. Either
of the last two makes a ``VoicemailLeft``; the file name remembered from the first goes
with it. A message the caller did not leave (``VMSTATUS`` FAILED or USEREXIT) is none.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from contactcenter import facts as te
from telephony.ami.dialing import DialRules
from telephony.ami.fields import Fields, text

FILE_VARIABLE = "VM_MESSAGEFILE"
STATUS_VARIABLE = "VMSTATUS"
EVENTS = frozenset({"MessageWaiting"})
_VARIABLES = frozenset({FILE_VARIABLE, STATUS_VARIABLE})
# File names remembered per caller leg until the message is reported; a PBX that
# never reports them cannot make the translator grow without bound.
_REMEMBERED = 4096


def is_voicemail_variable(msg: Fields) -> bool:
    return text(msg, "Variable").upper() in _VARIABLES


class VoicemailRules(DialRules):
    def _voicemail_files(self) -> OrderedDict[str, str]:
        files: OrderedDict[str, str] | None = getattr(self, "_vm_files", None)
        if files is None:
            files = OrderedDict()
            self._vm_files = files
        return files

    def _voicemail_variable(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        name = text(msg, "Variable").upper()
        value = text(msg, "Value").strip()
        uniqueid = text(msg, "Uniqueid")
        if name == FILE_VARIABLE:
            files = self._voicemail_files()
            if value and uniqueid:
                files[uniqueid] = value
                files.move_to_end(uniqueid)
                while len(files) > _REMEMBERED:
                    files.popitem(last=False)
            return []
        if value.upper() != "SUCCESS":
            return []
        return self._voicemail_left(msg, at, f"{key}:{STATUS_VARIABLE}", mailbox="")

    def _message_waiting(self, msg: Fields, at: datetime, key: str) -> list[te.Fact]:
        # Raised for a mailbox's every change; only one with a caller's channel is a
        # message just left (an agent reading their own mailbox is not a caller).
        leg = self._leg(msg)
        if leg is None or leg.is_agent:
            return []
        return self._voicemail_left(msg, at, key, mailbox=text(msg, "Mailbox"))

    def _voicemail_left(
        self, msg: Fields, at: datetime, key: str, *, mailbox: str
    ) -> list[te.Fact]:
        uniqueid = text(msg, "Uniqueid")
        if not uniqueid:
            return []
        return [
            te.VoicemailLeft(
                call_key=self._key(msg),
                at=at,
                dedup_key=key,
                leg_id=uniqueid,
                mailbox=mailbox,
                filename=self._voicemail_files().get(uniqueid, ""),
            )
        ]
