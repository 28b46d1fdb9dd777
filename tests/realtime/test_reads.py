"""realtime reads nothing itself: what a screen or a page shows is read by contactcenter's
and crm's selectors (docs/architecture.md, "One change's way out"), so no module of
realtime reaches a model's manager or narrows, orders or writes a queryset."""

from __future__ import annotations

import ast
from pathlib import Path

REALTIME = Path(__file__).resolve().parents[2] / "realtime"

MANAGERS = {"objects", "_default_manager", "_base_manager"}
# Methods only a queryset or a model instance has (``get``, ``values`` and ``update``
# are left out: dictionaries and sets have them too).
QUERYSET_METHODS = {
    "aggregate",
    "alias",
    "annotate",
    "bulk_create",
    "bulk_update",
    "defer",
    "delete",
    "difference",
    "distinct",
    "earliest",
    "exclude",
    "exists",
    "extra",
    "filter",
    "first",
    "get_or_create",
    "in_bulk",
    "intersection",
    "last",
    "latest",
    "only",
    "order_by",
    "prefetch_related",
    "raw",
    "refresh_from_db",
    "save",
    "select_for_update",
    "select_related",
    "union",
    "update_or_create",
    "using",
    "values_list",
}


def _database_work(source: str, filename: str) -> list[str]:
    """Where the source reaches a manager or calls a queryset's method, as
    ``line: name``."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Attribute) and node.attr in MANAGERS:
            found.append(f"{node.lineno}: .{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in QUERYSET_METHODS
        ):
            found.append(f"{node.lineno}: .{node.func.attr}()")
    return found


def test_no_module_of_realtime_reads_or_writes_the_database_itself() -> None:
    offenders = [
        f"{path.relative_to(REALTIME.parent)}:{where}"
        for path in sorted(REALTIME.rglob("*.py"))
        for where in _database_work(path.read_text(), str(path))
    ]
    assert not offenders, offenders


def test_the_check_sees_a_read_and_a_narrowed_queryset() -> None:
    source = (
        "rows = AuditEntry.objects.for_organization(1)\n"
        "rows = rows.filter(id__lt=5).order_by('-id')\n"
        "unread = selector().filter(read_at__isnull=True)\n"
        "count = {'a': 1}.get('a')\n"
    )
    assert sorted(_database_work(source, "sample.py")) == [
        "1: .objects",
        "2: .filter()",
        "2: .order_by()",
        "3: .filter()",
    ]
