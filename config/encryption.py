"""Secrets at rest: the keys, and encrypting and decrypting with them.

PBX and Twilio credentials (AMI secrets, SIP passwords, Twilio auth tokens and API key
secrets) are stored encrypted with Fernet (AES-128-CBC with an HMAC-SHA256, from the
``cryptography`` package), by the model field in ``config/fields.py``. The keys are
``FIELD_ENCRYPTION_KEYS``, newest first: the first encrypts, every one decrypts
(``MultiFernet``), so a key is rotated by putting a new one in front, running
``manage.py reencrypt_secrets``, then dropping the old one.

A key of its own, not one derived from ``SECRET_KEY``: rotating the signing key (after
a leak, say) must not make every stored credential unreadable.
"""

from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_FILE_NAME = "field_encryption_key"


class SecretDecryptionError(ImproperlyConfigured):
    """A stored secret that no configured key opens: a wrong key, or the key it was
    encrypted with was dropped before ``reencrypt_secrets`` ran. The message names the
    field, never the value."""


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def parse_keys(keys: list[str]) -> tuple[str, ...]:
    """The keys as given, checked: each must be a Fernet key (32 bytes, url-safe base64)."""
    if not keys:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is empty: give one key or more "
            "(make one with: manage.py reencrypt_secrets --new-key)."
        )
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS: key {position} is not a Fernet key (32 bytes in "
                "url-safe base64; make one with: manage.py reencrypt_secrets --new-key)."
            ) from None
    return tuple(keys)


@functools.lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in parse_keys(list(keys))])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str, *, label: str) -> str:
    """``label`` names the field in the error ("telephony.AsteriskConnection.secret")."""
    try:
        return _current().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise _unreadable(label) from None


def rotate(token: str, *, label: str) -> str:
    """The same secret encrypted with the first key (``token`` under any key)."""
    try:
        return _current().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError):
        raise _unreadable(label) from None


def _unreadable(label: str) -> SecretDecryptionError:
    return SecretDecryptionError(
        f"{label}: the stored value opens with none of the keys in FIELD_ENCRYPTION_KEYS "
        "(a wrong key, or the key it was encrypted with was removed before "
        "manage.py reencrypt_secrets ran)."
    )
