"""What one test module needs from another lives in a support module, never in a test
module: importing a test module collects its tests a second time under another name and
ties two test files together (docs/architecture.md, "Tests")."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _imported(path: Path) -> set[str]:
    """The modules a file imports, by their absolute dotted names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
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
