"""What one test module needs from another lives in a support module, never in a test
module: importing a test module collects its tests a second time under another name and
ties two test files together (docs/architecture.md, "Tests")."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _package(path: Path) -> str:
    """The dotted name of the package a file under tests/ is in (``tests.realtime``)."""
    return ".".join(path.resolve().parent.relative_to(TESTS.parent).parts)


def _imported(path: Path, source: str | None = None) -> set[str]:
    """The modules a file imports (``source``: its text, if not read from ``path``), by
    their absolute dotted names: a relative import is resolved against the file's
    package, as ``tests/x/`` is ``tests.x``."""
    names: set[str] = set()
    text = path.read_text() if source is None else source
    for node in ast.walk(ast.parse(text, filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = _package(path).split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, module] if module else base)
            if not module:
                continue
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_no_module_of_the_tests_imports_a_test_module() -> None:
    offenders = {
        f"{path.relative_to(TESTS.parent)}: {name}"
        for path in sorted(TESTS.rglob("*.py"))
        for name in _imported(path)
        if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")
    }
    assert not offenders, sorted(offenders)


def test_the_check_sees_an_import_of_a_test_module(tmp_path: Path) -> None:
    module = tmp_path / "test_sample.py"
    module.write_text("from tests.realtime.test_commands import connect_pbx\nimport os\n")
    assert "tests.realtime.test_commands" in _imported(module)


def test_the_check_sees_a_relative_import_of_a_test_module() -> None:
    module = TESTS / "realtime" / "screens" / "support_sample.py"  # never written
    source = "from .test_pop import a\nfrom ..test_commands import b\nfrom . import test_changes\n"
    imported = _imported(module, source)
    assert {
        "tests.realtime.screens.test_pop",
        "tests.realtime.test_commands",
        "tests.realtime.screens.test_changes",
    } <= imported
