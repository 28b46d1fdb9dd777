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

# Contexts a call from outside lands in: FreePBX's and the usual plain-dialplan names.
DEFAULT_INBOUND_CONTEXTS = frozenset(
    {"from-trunk", "from-pstn", "from-external", "from-did-direct", "ext-did", "from-sip-external"}
)


def parse_list(raw: str) -> tuple[str, ...]:
    """Entries of a configuration field: separated by commas, spaces or line breaks."""
    return tuple(dict.fromkeys(p for p in re.split(r"[\s,]+", raw) if p))


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
