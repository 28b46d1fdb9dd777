"""Recordings of some of the demo's past calls, so a newcomer can play one.

A few calls of ``provisioning.demo_history`` (alice's and bob's, two of them the calls
open cases came from) get a stored recording, as the shared-volume job would have left
it: a ``done`` row with its file in the ``recordings`` storage (the filesystem, or the
bucket, as configured) and the call's flag, so the console's recent calls, a case's
calls and the supervisors' call list offer the player. The audio is made here: a few
seconds of tones, a real WAV written with the ``wave`` module (about 48 kB).

Idempotent: a recording is found by its call's external id (its ``leg_id``); one whose
file is missing from the store gets it again. The store is never written twice with the
same sound: a file already at the recording's name with these bytes is kept.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from collections.abc import Sequence
from datetime import timedelta

from django.core.files.base import ContentFile

from contactcenter.enums import CallSource, RecordingStatus
from contactcenter.models import Call, Recording
from contactcenter.services.recording_files import recordings_storage, storage_key
from contactcenter.services.recordings import calls_show_recordings

RATE = 8000  # Hz, as a phone call is recorded
# (frequency in Hz, seconds): a short tune, so it is plainly playing when played.
TUNE = ((523.25, 0.5), (659.25, 0.5), (783.99, 0.5), (0.0, 0.25), (783.99, 0.5), (1046.5, 0.75))
SECONDS = sum(length for _, length in TUNE)


def demo_audio() -> bytes:
    """The demo recordings' sound: 16-bit mono PCM WAV at 8 kHz, each note faded in and
    out (no clicks)."""
    samples: list[int] = []
    for frequency, length in TUNE:
        count = int(length * RATE)
        fade = int(0.02 * RATE)
        for n in range(count):
            envelope = min(1.0, n / fade, (count - n) / fade)
            value = math.sin(2 * math.pi * frequency * n / RATE) if frequency else 0.0
            samples.append(int(9000 * envelope * value))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return out.getvalue()


def _store(rec: Recording, audio: bytes) -> str:
    """The recording's file in the store: the one already at its name when it holds
    these bytes, else a new one (the storage picks a free name)."""
    storage = recordings_storage()
    name = storage_key(rec)
    if storage.exists(name):
        with storage.open(name, "rb") as handle:
            if handle.read() == audio:
                return name
    return storage.save(name, ContentFile(audio))


def seed_demo_recordings(calls: Sequence[Call]) -> list[bool]:
    """A stored recording of each answered call of ``calls`` (from its answer, with its
    agent; keyed by the call's external id), made or repaired; for each, whether anything
    was created or stored. Run in a transaction: the calls' flags are set in it."""
    if not calls:
        return []
    audio = demo_audio()
    storage = recordings_storage()
    touched: list[Recording] = []
    created_or_stored: list[bool] = []
    for call in calls:
        if call.answered_at is None:
            raise ValueError(f"demo call {call.external_id} was not answered: nothing to record")
        rec, created = Recording.objects.get_or_create(
            organization_id=call.organization_id,
            source=CallSource.ASTERISK,
            leg_id=call.external_id,
            defaults={
                "call": call,
                "agent": call.agent,
                "status": RecordingStatus.DONE,
                "started_at": call.answered_at,
                "ended_at": call.answered_at + timedelta(seconds=SECONDS),
                "duration_seconds": math.ceil(SECONDS),
                "format": "wav",
            },
        )
        missing = rec.status == RecordingStatus.DONE and not (
            rec.storage_key and storage.exists(rec.storage_key)
        )
        if created or missing:
            rec.storage_key = _store(rec, audio)
            rec.size_bytes = len(audio)
            rec.save(update_fields=["storage_key", "size_bytes", "updated_at"])
        touched.append(rec)
        created_or_stored.append(created or missing)
    calls_show_recordings(organization_id=calls[0].organization_id, recordings=touched)
    return created_or_stored
