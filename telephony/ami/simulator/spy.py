"""A supervisor's monitoring call: ``Originate`` with ``Application: ChanSpy``.

Asterisk rings the supervisor's phone (Channel), and once it answers runs
``ChanSpy(<channel prefix>,<options>)`` on it: ``ChanSpyStart`` names the spyer and the
spyee with ``Spyer*`` / ``Spyee*`` prefixes (not ``Channel`` / ``Uniqueid``), one per
channel it spies on. ``ChanSpyStop`` when the supervisor hangs up; when the spied
channel hangs up first, with option ``E`` ChanSpy ends and the spyer's leg is hung up,
and no ``ChanSpyStop`` comes (the real PBX may skip it then: consumers must not wait
for it). Options are kept as given; ``w`` (whisper) and ``B`` (barge) change what the
people hear, which the model does not carry, only the events.
"""

from __future__ import annotations

from dataclasses import dataclass

from telephony.ami.simulator.channels import Channel, ChannelState
from telephony.ami.simulator.clock import Script
from telephony.ami.simulator.originate import (
    REASON_ANSWERED,
    REASON_FAILURE,
    OriginateRequest,
    originate_response,
    originated_channel,
)
from telephony.ami.simulator.pbx import PbxModel

# How often the model looks whether either side hung up (simulated seconds).
_WATCH = 0.1


@dataclass(frozen=True)
class SpyPlan:
    request: OriginateRequest
    data: str  # ChanSpy's arguments: "<channel prefix>,<options>"
    ring: float  # seconds the supervisor's phone rings before it answers

    @property
    def prefix(self) -> str:
        return self.data.partition(",")[0]

    @property
    def options(self) -> str:
        return self.data.partition(",")[2]


def _spyee(pbx: PbxModel, prefix: str, spyer: Channel) -> Channel | None:
    for name, channel in pbx.channels.items():
        if channel is not spyer and prefix and name.startswith(prefix) and not channel.hungup:
            return channel
    return None


def _spy_event(pbx: PbxModel, event: str, spyer: Channel, spyee: Channel) -> None:
    pbx.emit(event, "call", [*spyer.block("Spyer"), *spyee.block("Spyee")])


def spy_call(pbx: PbxModel, plan: SpyPlan) -> Script:
    """Ring the supervisor's phone, answer, spy until one side hangs up."""
    request = plan.request
    spyer = originated_channel(pbx, request)
    if request.caller_num or request.caller_name:
        pbx.set_connected(spyer, request.caller_num, request.caller_name)
    pbx.set_state(spyer, ChannelState.RINGING)
    yield plan.ring
    if spyer.hungup:
        originate_response(pbx, request, None, REASON_FAILURE)
        return
    pbx.set_state(spyer, ChannelState.UP)
    originate_response(pbx, request, spyer, REASON_ANSWERED)
    pbx.newexten(spyer, "ChanSpy", plan.data, 1)
    spyee = _spyee(pbx, plan.prefix, spyer)
    if spyee is None:
        # Nothing to spy on: ChanSpy waits for one (option S would end it); the model
        # ends the call, as the supervisor would.
        pbx.hangup(spyer, 16)
        return
    _spy_event(pbx, "ChanSpyStart", spyer, spyee)
    while not spyer.hungup and not spyee.hungup:
        yield _WATCH
    if spyer.hungup:
        return  # its ChanSpyStop came before its Hangup (spy_hangup)
    if "E" in plan.options:
        pbx.soft_hangup_request(spyer, 16)
        pbx.hangup(spyer, 16)


def spy_hangup(pbx: PbxModel, spyer: Channel) -> None:
    """The supervisor's monitoring leg is hung up: ChanSpy stops (ChanSpyStop, while
    the spied channel lives), then the leg's Hangup, in Asterisk's order."""
    prefix = spyer.app_data.partition(",")[0]
    spyee = _spyee(pbx, prefix, spyer)
    if spyee is not None:
        _spy_event(pbx, "ChanSpyStop", spyer, spyee)
    pbx.soft_hangup_request(spyer, 16)
    pbx.hangup(spyer, 16)


# ChanSpy's option d: the digit the supervisor presses, and the options it then runs with.
_DIGIT_OPTIONS = {"4": "", "5": "w", "6": "B"}


def spy_digit(pbx: PbxModel, spyer: Channel, digit: str) -> None:
    """A digit ChanSpy reads from the supervisor's channel (their keypad, or AMI's
    PlayDTMF with Receive): with option d, 4 listen, 5 whisper, 6 barge, within the same
    call. Asterisk raises DTMFBegin/DTMFEnd (Direction Received) and no ChanSpy event."""
    for event in ("DTMFBegin", "DTMFEnd"):
        extra = [("Digit", digit), ("Direction", "Received")]
        if event == "DTMFEnd":
            extra.append(("DurationMs", "100"))
        pbx.emit_channel(event, spyer, extra, privilege="dtmf")
    prefix, _, options = spyer.app_data.partition(",")
    if spyer.application != "ChanSpy" or "d" not in options or digit not in _DIGIT_OPTIONS:
        return
    kept = "".join(o for o in options if o not in "wB")
    mode = _DIGIT_OPTIONS[digit]
    # The options the spy now runs with, as the model keeps them (q first, as given).
    spyer.app_data = f"{prefix},{kept[:1]}{mode}{kept[1:]}"
