"""Recording files from the shared volume to the store: the filesystem, a local S3
endpoint (moto's server, over HTTP), a file that never arrives, a hostile file name."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from prometheus_client import REGISTRY

import config.metrics  # noqa: F401  (registers the recordings' gauges)
from contactcenter.enums import RecordingStatus
from contactcenter.models import AuditEntry
from contactcenter.services.recording_files import (
    NEVER_ARRIVED,
    OUTSIDE,
    recordings_collect,
    recordings_storage,
)
from tests.conftest import Floor
from tests.contactcenter.recorded import ended_recording, tiny_wav

pytestmark = pytest.mark.django_db


@pytest.fixture
def spool(settings: Any, tmp_path: Path) -> Path:
    settings.RECORDINGS_SPOOL_DIR = str(tmp_path / "monitor")
    settings.RECORDINGS_FILE_TIMEOUT_SECONDS = 600
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "store")},
        },
    }
    return tmp_path / "monitor"


def test_an_arrived_file_is_stored_and_the_row_says_where(floor_a: Floor, spool: Path) -> None:
    rec = ended_recording(floor_a.org, floor_a.agent, name="cc-1.wav")
    audio = tiny_wav(spool / "cc-1.wav")
    assert recordings_collect().stored == 1
    rec.refresh_from_db()
    assert rec.status == RecordingStatus.DONE
    assert rec.size_bytes == len(audio)
    assert rec.storage_key.startswith(f"{floor_a.org.pk}/")
    with recordings_storage().open(rec.storage_key, "rb") as stored:
        assert stored.read() == audio
    assert AuditEntry.objects.filter(action="recording.store", object_id=str(rec.pk)).exists()
    assert recordings_collect().stored == 0  # done once


def test_a_file_that_never_arrives_fails_after_the_timeout_with_a_metric(
    floor_a: Floor, spool: Path
) -> None:
    late = ended_recording(floor_a.org, floor_a.agent, name="late.wav", ago=60)
    lost = ended_recording(floor_a.org, floor_a.agent, name="lost.wav", ago=601)
    assert REGISTRY.get_sample_value("cc_recordings_waiting_files") == 2
    result = recordings_collect()
    assert (result.stored, result.failed, result.waiting) == (0, 1, 1)
    late.refresh_from_db()
    lost.refresh_from_db()
    assert late.status == RecordingStatus.ENDED
    assert (lost.status, lost.failure) == (RecordingStatus.FAILED, NEVER_ARRIVED)
    assert REGISTRY.get_sample_value("cc_recordings_failed_files") == 1
    assert REGISTRY.get_sample_value("cc_recordings_waiting_files") == 1


@pytest.mark.parametrize(
    "name",
    ["../../../../etc/passwd", "/etc/passwd", "sub/../../outside.wav"],
)
def test_a_file_named_outside_the_monitor_directory_is_never_read(
    floor_a: Floor, spool: Path, settings: Any, name: str
) -> None:
    (spool.parent / "outside.wav").parent.mkdir(parents=True, exist_ok=True)
    tiny_wav(spool.parent / "outside.wav")
    rec = ended_recording(floor_a.org, floor_a.agent)
    rec.pbx_filename = name if name.startswith("/") else f"{settings.RECORDINGS_PBX_DIR}/{name}"
    rec.save()
    assert recordings_collect().failed == 1
    rec.refresh_from_db()
    assert (rec.status, rec.failure, rec.storage_key) == (RecordingStatus.FAILED, OUTSIDE, "")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    """A local S3 endpoint: moto's server on a port of its own."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_a_file_is_stored_in_an_s3_bucket(
    floor_a: Floor, spool: Path, settings: Any, s3_endpoint: str
) -> None:
    keys = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **keys).create_bucket(
        Bucket="recordings"
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "recordings",
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": "test",
                "secret_key": "test",
                "default_acl": None,
                "file_overwrite": False,
            },
        },
    }
    rec = ended_recording(floor_a.org, floor_a.agent, name="s3.wav")
    audio = tiny_wav(spool / "s3.wav")
    assert recordings_collect().stored == 1
    rec.refresh_from_db()
    listed = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1", **keys
    ).get_object(Bucket="recordings", Key=rec.storage_key)
    assert listed["Body"].read() == audio
    with recordings_storage().open(rec.storage_key, "rb") as stored:
        stored.seek(100)
        assert stored.read(50) == audio[100:150]


def test_a_copy_that_differs_from_the_file_is_deleted_and_tried_again(
    floor_a: Floor, spool: Path, settings: Any, tmp_path: Path
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "tests.contactcenter.recorded.ShortWritingStorage",
            "OPTIONS": {"location": str(tmp_path / "short")},
        },
    }
    rec = ended_recording(floor_a.org, floor_a.agent, name="cc-short.wav")
    audio = tiny_wav(spool / "cc-short.wav")
    result = recordings_collect()
    assert (result.stored, result.waiting) == (0, 1)
    rec.refresh_from_db()
    assert (rec.status, rec.storage_key, rec.size_bytes) == (RecordingStatus.ENDED, "", None)
    assert not any(p.is_file() for p in (tmp_path / "short").rglob("*"))  # not left behind
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "store")},
        },
    }
    assert recordings_collect().stored == 1
    rec.refresh_from_db()
    assert (rec.status, rec.size_bytes) == (RecordingStatus.DONE, len(audio))
