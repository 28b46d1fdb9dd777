"""A recorded call whose file the PBX wrote to the shared volume, for the tests."""

from __future__ import annotations

import math
import struct
import wave
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.utils import timezone

from contactcenter.enums import CallSource, RecordingStatus
from contactcenter.models import Agent, Organization, Recording
from tests.factories import make_call


def tiny_wav(path: Path, seconds: float = 0.5, rate: int = 8000) -> bytes:
    """A short 440 Hz tone, 16-bit mono: a real file a browser can play."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
        for n in range(int(seconds * rate))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path.read_bytes()


def ended_recording(
    org: Organization, agent: Agent | None, *, name: str = "cc-rec.wav", ago: int = 60
) -> Recording:
    """A call of ``agent`` that ended ``ago`` seconds ago, recorded into ``name`` under the
    PBX's monitor directory (``settings.RECORDINGS_PBX_DIR``)."""
    ended = timezone.now() - timedelta(seconds=ago)
    call = make_call(org, agent=agent, started_at=ended - timedelta(seconds=30))
    return Recording.objects.create(
        organization=org,
        call=call,
        source=CallSource.ASTERISK,
        leg_id=f"leg-{call.pk}",
        agent=agent,
        status=RecordingStatus.ENDED,
        started_at=call.started_at,
        ended_at=ended,
        duration_seconds=30,
        pbx_filename=f"{settings.RECORDINGS_PBX_DIR}/{name}",
        format=Path(name).suffix.lstrip("."),
    )


class ShortWritingStorage(FileSystemStorage):
    """A store whose writes lose their second half (a full disk, a cut upload): the copy
    check must catch it."""

    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        data = content.read()
        return super().save(name, ContentFile(data[: len(data) // 2]), max_length)
