"""One name per concept (docs/architecture.md, "Words"), held where the words had
drifted: what goes over a WebSocket is a *message* (*wire frames* are AMI bytes,
telephony's, and only they are frames), and *metrics* are Prometheus series only, so
outside the modules that serve them (``metrics.py`` on prometheus_client) the domain,
crm and realtime say *figures* for the wallboard's and reports' numbers. Identifiers
that are part of a published contract (the AsyncAPI titles ending in ``Frame``, the REST
serializers ending in ``Metrics``) are left as they are; for the Python packages this
reads comments and docstrings only.

The same holds in the browser client (``realtime/static/realtime/js``, the vendored
libraries left out), read whole: comments, identifiers, DOM event names and other
strings; and in the tests' comments and docstrings, where the tests of AMI say *AMI
frame* or *wire frame*, and only the tests that read Prometheus series say metrics.

The benchmarks (``bench/``) and the docs say message too. bench's Python is read in its
comments, docstrings and strings (what it prints: its labels, its help) and in its
names, where only a module that parses AMI (one importing ``telephony.ami.frames``) may
name a frame. The Markdown (``docs/``, ``bench/README.md``) is read whole: a frame is
an AMI frame or a wire frame there, or a name quoted as code: a module path, a name of
telephony's AMI code (``FrameParser``, ``frame_errors``) or of the published AsyncAPI
document (``CallFrameData``, the ``...Frame`` titles)."""

from __future__ import annotations

import io
import json
import re
import tokenize
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from tests.source_prose import ROOT, prose, sources

# AMI frames (and wire frames) are the only frames; a module path (``ami/frames.py``,
# ``telephony.ami.frames``) is a name.
FRAME = re.compile(r"(?<!AMI )(?<!wire )(?<![./])\bframes?\b", re.IGNORECASE)
# ``queue.metrics`` (a wire type of protocol version 1) and ``/metrics`` are names.
METRIC = re.compile(r"(?<![./\w])metrics?\b", re.IGNORECASE)

SCRIPTS = ROOT / "realtime" / "static" / "realtime" / "js"
# The script's words: identifiers, and the words of its comments and strings.
SCRIPT_WORD = re.compile(r"[A-Za-z_$][\w$]*")
# camelCase and snake_case parts: applyAgentFrame -> apply, Agent, Frame.
PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
# The platform's own names, which this code may call.
PLATFORM = {"requestAnimationFrame", "cancelAnimationFrame"}

# The Markdown read whole, and the Python read like the scripts.
DOCS = (ROOT / "docs", ROOT / "bench")
# In Markdown a word may end a line and its noun start the next: "AMI" then "frame".
DOC_FRAME = re.compile(r"(?<![./])\bframes?\b", re.IGNORECASE)
AMI_BEFORE = re.compile(r"\b(?:AMI|wire)\s+$")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
NAME = re.compile(r"[\w./-]+")
# A module that parses AMI, whose names may say frame.
READS_AMI = re.compile(r"^from telephony\.ami\.frames import|^import telephony\.ami\.frames", re.M)

# Left for later: lines in files another change had open when these checks came. Each
# must still be there: remove its entry once the line says message.
PENDING = {
    "tests/drills/bridges.py": "The process ids of its children (its frame-rendering worker)",
}


def _uses(pattern: re.Pattern[str], source: str) -> list[str]:
    return [f"{n}: {line.strip()}" for n, line in prose(source) if pattern.search(line)]


def _serves_metrics(path: Path) -> bool:
    """A module of Prometheus series: named metrics.py, and built on prometheus_client."""
    return path.name == "metrics.py" and "prometheus_client" in path.read_text()


def _reads_metrics(source: str) -> bool:
    """A test of Prometheus series: it reads them from prometheus_client or /metrics."""
    return "prometheus_client" in source or "/metrics" in source


def _script_uses(words: set[str], source: str, *, allowed: tuple[str, ...] = ()) -> list[str]:
    """The lines of a script with one of ``words`` in an identifier, a comment or a
    string, unless the text just before it is one of ``allowed`` (or a ``/``: a path)."""
    found = []
    for n, line in enumerate(source.splitlines(), start=1):
        for token in SCRIPT_WORD.finditer(line):
            if token.group() in PLATFORM or line[: token.start()].endswith(("/", *allowed)):
                continue
            if {part.lower() for part in PART.findall(token.group())} & words:
                found.append(f"{n}: {line.strip()}")
                break
    return found


def _scripts() -> Iterator[Path]:
    return (path for path in sorted(SCRIPTS.rglob("*.js")) if "vendor" not in path.parts)


def _test_sources() -> Iterator[Path]:
    """The tests' Python files, this one left out: it names the words it forbids."""
    return (path for path in sources("tests") if path != Path(__file__).resolve())


def _strings_and_names(source: str) -> Iterator[tuple[int, str, str]]:
    """The source's string literals and names: (line, "string" or "name", text)."""
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING:
            yield token.start[0], "string", token.string
        elif token.type == tokenize.NAME:
            yield token.start[0], "name", token.string


def _says_frame(name: str) -> bool:
    """Whether a name has the word frame in it: call_frames, CallFrameData."""
    return bool({part.lower() for part in PART.findall(name)} & {"frame", "frames"})


def _python_uses(source: str) -> list[str]:
    """bench's (and the docs') Python: a frame in prose or a string unless an AMI frame
    or a wire frame, in a name unless the module parses AMI."""
    found = _uses(FRAME, source)
    names_may = READS_AMI.search(source) is not None
    for n, kind, text in _strings_and_names(source):
        if (kind == "string" and FRAME.search(text)) or (
            kind == "name" and not names_may and _says_frame(text)
        ):
            found.append(f"{n}: {text}")
    return found


@cache
def _published_names() -> str:
    """Where a quoted name may say frame: telephony's AMI code and the AsyncAPI document."""
    from realtime.asyncapi import asyncapi_document

    ami = "\n".join(path.read_text() for path in sources("telephony/ami"))
    return ami + json.dumps(asyncapi_document(host="docs", secure=False))


def _markdown_uses(text: str, *, names: str) -> list[str]:
    """The lines of a Markdown text with a frame that is neither an AMI (or wire) frame
    nor in a name quoted as code that exists (a path) or is one of ``names``."""
    lines = text.splitlines()
    spans = [(m.start(), m.end(), m.group(1)) for m in CODE_SPAN.finditer(text)]
    names_quoted = [
        (a, b)
        for a, b, span in spans
        if NAME.fullmatch(span) and ((ROOT / span).exists() or span in names)
    ]
    at = [m.start() for m in DOC_FRAME.finditer(text)]
    at += [a for a, b, span in spans if _says_frame(span) and (a, b) not in names_quoted]
    found = set()
    for start in at:
        if AMI_BEFORE.search(text[max(0, start - 40) : start]):
            continue
        if any(a < start < b for a, b in names_quoted):
            continue
        found.add(text.count("\n", 0, start) + 1)
    return [f"{n}: {lines[n - 1].strip()}" for n in sorted(found)]


def _markdown() -> Iterator[Path]:
    return (path for folder in DOCS for path in sorted(folder.rglob("*.md")))


def test_what_goes_over_a_websocket_is_a_message_not_a_frame() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{where}"
        for path in sources("config", "contactcenter", "crm", "provisioning", "realtime")
        for where in _uses(FRAME, path.read_text())
    ]
    assert not offenders, offenders


def test_metrics_are_prometheus_only() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{where}"
        for path in sources("contactcenter", "crm", "provisioning", "realtime")
        if not _serves_metrics(path)
        for where in _uses(METRIC, path.read_text())
    ]
    assert not offenders, offenders


def test_the_browser_client_says_message_and_figure() -> None:
    scripts = list(_scripts())
    assert scripts
    offenders = [
        f"{path.relative_to(ROOT)}:{where}"
        for path in scripts
        for where in _script_uses({"frame", "frames"}, path.read_text(), allowed=("AMI ", "wire "))
        + _script_uses({"metric", "metrics"}, path.read_text())
    ]
    assert not offenders, offenders


def test_the_tests_prose_says_message_and_figure() -> None:
    offenders = []
    for path in _test_sources():
        name, source = str(path.relative_to(ROOT)), path.read_text()
        offenders += [
            f"{name}:{where}"
            for where in _uses(FRAME, source)
            if not (name in PENDING and PENDING[name] in where)
        ]
        if not _reads_metrics(source):
            offenders += [f"{name}:{where}" for where in _uses(METRIC, source)]
    assert not offenders, offenders


def test_the_pending_lines_are_still_pending() -> None:
    for name, line in PENDING.items():
        assert any(line in where for where in _uses(FRAME, (ROOT / name).read_text())), name


def test_the_checks_see_the_words_in_prose_only() -> None:
    source = (
        '"""Renders the frames of a job; nothing of AMI frames or wire frames."""\n'
        "CALL_FRAME_TYPES = ()  # the wallboard metrics; see /metrics and queue.metrics\n"
        'x = "frame"  # telephony/ami/frames.py parses them\n'
    )
    assert _uses(FRAME, source) == [
        "1: Renders the frames of a job; nothing of AMI frames or wire frames."
    ]
    assert _uses(METRIC, source) == ["2: # the wallboard metrics; see /metrics and queue.metrics"]


def test_the_script_check_sees_identifiers_comments_and_strings() -> None:
    source = (
        "// Each AMI frame or wire frame is fine here.\n"
        "export function applyAgentFrame(state, message) {}\n"
        "const CALL_FRAMES = new Set();\n"
        'document.addEventListener("console:frame", onMessage);\n'
        "// between frames only the clocks move\n"
        "window.requestAnimationFrame(render); // the platform's name\n"
        'function metric(name) { return h("div", { class: "figure" }); }\n'
        'fetch("/metrics"); const frameless = 1;\n'
    )
    frames = ["2: ", "3: ", "4: ", "5: "]
    found = _script_uses({"frame", "frames"}, source, allowed=("AMI ", "wire "))
    assert [where[:3] for where in found] == frames
    assert _script_uses({"metric", "metrics"}, source) == [
        '7: function metric(name) { return h("div", { class: "figure" }); }'
    ]


def test_bench_and_the_docs_say_message() -> None:
    markdown = list(_markdown())
    assert ROOT / "docs" / "benchmarks.md" in markdown and ROOT / "bench" / "README.md" in markdown
    names = _published_names()
    offenders = [
        f"{path.relative_to(ROOT)}:{where}"
        for path in markdown
        for where in _markdown_uses(path.read_text(), names=names)
    ] + [
        f"{path.relative_to(ROOT)}:{where}"
        for path in sources("bench", "docs")
        for where in _python_uses(path.read_text())
    ]
    assert not offenders, offenders


def test_the_bench_check_sees_prose_strings_and_names() -> None:
    source = (
        '"""Each AMI frame leaves; the wire frames too."""\n'
        "call_frames = {}  # the frames a console got\n"
        'print(f"({n:,} frames)")\n'
        'help_text = "stop when no AMI frame came"\n'
    )
    assert [where[:2] for where in _python_uses(source)] == ["2:", "2:", "3:"]
    parses_ami = (
        "from telephony.ami.frames import FrameParser\n"
        "for frame in FrameParser().feed(b''):  # each AMI frame\n"
        "    pass\n"
    )
    assert _python_uses(parses_ami) == []


def test_the_docs_check_sees_words_not_names() -> None:
    text = (
        "Each AMI frame and every wire\nframe is fine; `telephony/ami/frames.py` is a path,\n"
        "`FrameParser` a name of AMI's, `CallRingingFrame` a published title.\n"
        "The console got a later frame of the call.\n"
        "`call_frames` is nobody's name;\n"
        "`snapshot frame` is no name at all.\n"
    )
    found = _markdown_uses(text, names="class FrameParser: snapshot frame; CallRingingFrame")
    assert [where.split(":")[0] for where in found] == ["4", "5", "6"], found
