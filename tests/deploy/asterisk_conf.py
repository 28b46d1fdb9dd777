"""deploy/asterisk/'s configuration files read as Asterisk reads them, for the tests that
check them against the code.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


ASTERISK = ROOT / "deploy" / "asterisk"


def parse_conf(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Asterisk's config syntax: sections (with templates), repeatable keys, ``=>``."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        header = re.fullmatch(r"\[([^\]]+)\](\(.*\))?", line)
        if header:
            current = sections.setdefault(header.group(1), [])
            continue
        setting = re.fullmatch(r"([\w()-]+)\s*(?:=>|=)\s*(.*)", line)
        assert setting, f"{path.name}: not a key = value line: {raw!r}"
        assert current is not None, f"{path.name}: a setting outside any section: {raw!r}"
        current.append((setting.group(1), setting.group(2)))
    return sections


def _values(section: list[tuple[str, str]], key: str) -> list[str]:
    return [value for k, value in section if k == key]
