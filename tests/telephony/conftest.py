from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from telephony.ami.simulator import AmiSimulator, SimulatorConfig, Transcript
from tests.telephony.amiclient import AmiTestClient
from tests.telephony.pbxlogs import PbxLogs, pbx_log_database

# The recorded AMI transcripts and their expected outcomes (tests/telephony/transcripts;
# README.md there says how they were made).
TRANSCRIPTS = Path(__file__).resolve().parent / "transcripts"
TRANSCRIPT_NAMES = sorted(path.name for path in TRANSCRIPTS.glob("*.ami"))
if not TRANSCRIPT_NAMES:  # an empty glob would parametrize every transcript test away
    raise RuntimeError(f"no AMI transcripts in {TRANSCRIPTS}")
# The transcripts' server booted at 2025-03-14 08:00 UTC; their calls start at 11:00.
START_EPOCH = 1741950000.0
SECRET = "s3cret-for-tests"


def load_transcript(name: str) -> Transcript:
    return Transcript.load(TRANSCRIPTS / name)


def fast_config(**overrides: object) -> SimulatorConfig:
    """Port 0, as fast as possible, a fixed start: every run emits the same events."""
    options: dict[str, object] = {
        "port": 0,
        "secret": SECRET,
        "speed": None,
        "start_epoch": START_EPOCH,
    }
    options.update(overrides)
    return SimulatorConfig(**options)  # type: ignore[arg-type]


@pytest.fixture
async def simulator() -> AsyncIterator[AmiSimulator]:
    async with AmiSimulator(fast_config()) as sim:
        yield sim


@pytest.fixture
async def client(simulator: AmiSimulator) -> AsyncIterator[AmiTestClient]:
    """A raw client, logged in as the configured user."""
    connected = await AmiTestClient.connect(simulator.port)
    reply = await connected.login(secret=SECRET)
    assert reply.response == "Success"
    await connected.wait_for(lambda m: m.event == "FullyBooted")
    yield connected
    await connected.close()


@pytest.fixture
def pbx_logs() -> Iterator[PbxLogs]:
    """A PBX's call-log database (tests/telephony/pbxlogs.py), dropped after the test."""
    with pbx_log_database() as logs:
        yield logs
