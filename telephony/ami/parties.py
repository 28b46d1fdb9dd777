"""Which channels are on our side of the PBX and which come from outside (trunks).

A call's direction follows from it (docs/telephony.md, "Direction"): a call whose first
channel comes from outside is inbound; one placed on our side is outbound when it dials
out through a trunk and internal otherwise. What a PBX administrator knows is configured
per Asterisk connection (``AsteriskConnection.trunks`` and ``.inbound_contexts``); the
defaults fit FreePBX and most plain dialplans.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

# Contexts a call from outside lands in: FreePBX's and the usual plain-dialplan names.
DEFAULT_INBOUND_CONTEXTS = frozenset(
    {"from-trunk", "from-pstn", "from-external", "from-did-direct", "ext-did", "from-sip-external"}
)


def parse_list(raw: str) -> tuple[str, ...]:
    """Entries of a configuration field: separated by commas, spaces or line breaks."""
    return tuple(dict.fromkeys(p for p in re.split(r"[\s,]+", raw) if p))


MAX_ENTRIES = 50
# A device pattern: technology/endpoint with shell wildcards ("PJSIP/trunk*", "SIP/gw-?").
_TRUNK = re.compile(r"[A-Za-z0-9]+/[A-Za-z0-9_.@:+*?\[\]-]{1,80}")
# An Asterisk context name.
_CONTEXT = re.compile(r"[A-Za-z0-9_.-]{1,80}")


def _validate_entries(raw: str, shape: re.Pattern[str], what: str) -> None:
    entries = parse_list(raw)
    if len(entries) > MAX_ENTRIES:
        raise ValidationError(f"At most {MAX_ENTRIES} {what}s.")
    bad = [e for e in entries if not shape.fullmatch(e)]
    if bad:
        raise ValidationError(f"Not a {what}: {bad[0][:40]!r}.")


def validate_trunks(raw: str) -> None:
    """Device patterns like ``PJSIP/trunk*``, separated by commas or line breaks."""
    _validate_entries(raw, _TRUNK, "trunk pattern (technology/endpoint, * and ? allowed)")


def validate_contexts(raw: str) -> None:
    """Dialplan context names, separated by commas or line breaks."""
    _validate_entries(raw, _CONTEXT, "context name")


@dataclass(frozen=True)
class Parties:
    """``trunks``: shell patterns of trunk devices (``PJSIP/trunk*``, ``SIP/provider``);
    ``inbound_contexts``: contexts calls from outside arrive in.

    Our side: an agent's phone, always. Outside: a device matching ``trunks``, or a
    channel created in an inbound context. With no ``trunks`` configured, a device whose
    endpoint name is all digits (``PJSIP/2001``, ``SIP/201``) is an extension and any
    other name (``PJSIP/trunk``, ``SIP/voipprovider``) a trunk.
    """

    trunks: tuple[str, ...] = ()
    inbound_contexts: frozenset[str] = DEFAULT_INBOUND_CONTEXTS

    @classmethod
    def configured(cls, *, trunks: str = "", inbound_contexts: str = "") -> Parties:
        contexts = parse_list(inbound_contexts)
        return cls(
            trunks=parse_list(trunks),
            inbound_contexts=frozenset(contexts) if contexts else DEFAULT_INBOUND_CONTEXTS,
        )

    def is_internal(self, device: str, context: str, *, is_agent: bool) -> bool:
        if is_agent:
            return True
        if context in self.inbound_contexts:
            return False
        if self.trunks:
            return not _matches(device, self.trunks)
        endpoint = device.partition("/")[2]
        return endpoint.isascii() and endpoint.isdigit()


def _matches(device: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(device, pattern) for pattern in patterns)
