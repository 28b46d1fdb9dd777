"""A secret key of this installation's own, when none is given outside production.

A key written in the source is everyone's: a JWT or session cookie signed with the
public development key was accepted by a demo left reachable on a network. Without
``DJANGO_SECRET_KEY`` (development and test), the key is read from
``$VAR_DIR/secret_key``, which the first start creates (random, readable by its owner
only), so it stays the same across restarts and differs between installations.
Production must still set ``DJANGO_SECRET_KEY``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

FILE_NAME = "secret_key"


def installation_secret_key(var_dir: Path) -> str:
    """The key in ``var_dir/secret_key``, created first if need be."""
    return installation_key(var_dir, FILE_NAME, lambda: secrets.token_urlsafe(50))


def installation_key(var_dir: Path, file_name: str, make: Callable[[], str]) -> str:
    """The key in ``var_dir/file_name``, made by ``make`` and written first if need be.
    Safe when several processes start at once: the file appears whole or not at all (a
    hard link of a file already written), and every process then reads the one that won."""
    path = var_dir / file_name
    try:
        key = path.read_text().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    var_dir.mkdir(parents=True, exist_ok=True)
    draft = var_dir / f".{file_name}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(make() + "\n")
        # Another process first (FileExistsError): its key is the key.
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)
    key = path.read_text().strip()
    if not key:  # never written so by this code: a file emptied by hand or a full disk
        raise ImproperlyConfigured(
            f"{path} is empty: delete it (a new key is made: what the old one signed or "
            "encrypted is lost) or set the key in the environment (docs/configuration.md)."
        )
    return key
