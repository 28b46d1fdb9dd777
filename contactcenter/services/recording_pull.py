"""Fetching a recording's file over HTTP into a temporary file, checked as it comes.

Two users: the PBX-side pull (``RECORDINGS_PULL_URL``, for an Asterisk whose monitor
directory is served by a web server rather than mounted on the workers) and Twilio's
media (telephony/twilio/recording_media.py). Either way the body is streamed to a
temporary file, never held in memory, bounded by ``RECORDINGS_PULL_MAX_BYTES``, and
compared with its ``Content-Length``: a cut transfer is an error, not a short file.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from urllib.parse import quote

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

PATH_PLACEHOLDER = "{path}"
_CHUNK = 1 << 16
# Answers that mean "not there (yet)": the recording keeps waiting, then times out.
_NOT_THERE = {404, 410}


class PullUnavailable(Exception):
    """The file could not be fetched this time (refused, unreachable, cut short, too
    large): worth another try later."""


def pull_url(relative: PurePosixPath) -> str:
    """``RECORDINGS_PULL_URL`` with ``{path}`` replaced by the file's name relative to
    the PBX's monitor directory, each segment URL-quoted."""
    template = settings.RECORDINGS_PULL_URL
    if PATH_PLACEHOLDER not in template:
        raise ImproperlyConfigured("RECORDINGS_PULL_URL must contain {path}.")
    # Replaced, not str.format(): other braces in the URL are left alone.
    return template.replace(PATH_PLACEHOLDER, quote(str(relative), safe="/"))


def _pull_auth() -> tuple[tuple[str, str] | None, dict[str, str]]:
    token = settings.RECORDINGS_PULL_TOKEN
    if token:
        return None, {"Authorization": f"Bearer {token}"}
    if settings.RECORDINGS_PULL_USERNAME:
        return (settings.RECORDINGS_PULL_USERNAME, settings.RECORDINGS_PULL_PASSWORD), {}
    return None, {}


@contextmanager
def pulled_file(relative: PurePosixPath) -> Iterator[Path | None]:
    """The PBX's file ``relative`` (to its monitor directory), fetched from
    ``RECORDINGS_PULL_URL`` with the configured credentials: a temporary path while the
    block runs, or None when the server has no such file (404/410). Redirects are not
    followed (the credentials are for that server only). Raises PullUnavailable."""
    auth, headers = _pull_auth()
    with http_download(
        pull_url(relative), auth=auth, headers=headers, allow_redirects=False
    ) as path:
        yield path


@contextmanager
def http_download(
    url: str,
    *,
    auth: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
    allow_redirects: bool = False,
) -> Iterator[Path | None]:
    """GET ``url`` into a temporary file (removed after the block); None on 404/410.
    Raises PullUnavailable for any other answer than 200, a network error, a body
    shorter or longer than its ``Content-Length`` or larger than
    ``RECORDINGS_PULL_MAX_BYTES``. Following a redirect to another host drops the
    credentials (requests' rule)."""
    limit = settings.RECORDINGS_PULL_MAX_BYTES
    try:
        response = requests.get(
            url,
            auth=auth,
            headers=headers,
            stream=True,
            allow_redirects=allow_redirects,
            timeout=settings.RECORDINGS_PULL_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        raise PullUnavailable(f"{type(exc).__name__}: {exc}") from None
    with response, tempfile.NamedTemporaryFile(prefix="cc-recording-") as out:
        if response.status_code in _NOT_THERE:
            yield None
            return
        if response.status_code != 200:
            raise PullUnavailable(f"HTTP {response.status_code}")
        declared = response.headers.get("Content-Length", "")
        size = 0
        try:
            for chunk in response.iter_content(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise PullUnavailable(f"larger than RECORDINGS_PULL_MAX_BYTES ({limit})")
                out.write(chunk)
        except requests.RequestException as exc:  # cut short (IncompleteRead), reset ...
            raise PullUnavailable(f"{type(exc).__name__}: {exc}") from None
        out.flush()
        if declared.isdigit() and int(declared) != size:
            raise PullUnavailable(f"received {size} bytes of {declared}")
        if size == 0:
            raise PullUnavailable("empty file")
        yield Path(out.name)
