"""An AMI server simulating Asterisk 20 for tests, demos and load runs.

Public API: :class:`AmiSimulator` with :class:`SimulatorConfig`; per-connection
:class:`ConnectionPlan` of :class:`ReplaySpec` transcripts; named scenarios
(``AmiSimulator.run_scenario``); and the load generator (``AmiSimulator.start_load``
with :class:`LoadConfig`, reporting a :class:`LoadReport`).
"""

from telephony.ami.simulator.call_actions import OriginateBehaviour
from telephony.ami.simulator.catalog import SCENARIOS
from telephony.ami.simulator.load import LoadConfig, LoadGenerator, LoadReport
from telephony.ami.simulator.replay import ReplayReport, ReplaySpec
from telephony.ami.simulator.scenarios import InboundPlan, OutboundPlan, TransferPlan
from telephony.ami.simulator.server import AmiSimulator, SimulatorConfig
from telephony.ami.simulator.session import AmiSession, ConnectionPlan
from telephony.ami.simulator.transcript import Transcript

__all__ = [
    "SCENARIOS",
    "AmiSession",
    "AmiSimulator",
    "ConnectionPlan",
    "InboundPlan",
    "LoadConfig",
    "LoadGenerator",
    "LoadReport",
    "OriginateBehaviour",
    "OutboundPlan",
    "ReplayReport",
    "ReplaySpec",
    "SimulatorConfig",
    "Transcript",
    "TransferPlan",
]
