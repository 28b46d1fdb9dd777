"""The prose of a Python source: its comments and docstrings, line by line (what the
checks of the words and figures the code's prose uses read)."""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def prose(source: str) -> list[tuple[int, str]]:
    """The source's comments and docstrings, line by line, with their line numbers."""
    lines = [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                text = first.value.value.splitlines()
                lines += [(first.lineno + i, line) for i, line in enumerate(text)]
    return lines


def sources(*packages: str, root: Path = ROOT) -> Iterator[Path]:
    """The Python files of the packages, migrations left out."""
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path
