"""Every write of records goes through the record store (``hub.records.recordstore.RecordStore``).

A pragmatic scan of the project's source (tests and migrations aside): a call of a write
method on a chain rooted at the name ``Record`` (``Record.objects.filter(…).delete()``,
``Record.objects.bulk_create(…)``, ``Record(…).save()``), or SQL text writing a record
table, fails unless it is in the record store's own modules (``recordstore*.py``).
Writes on record instances held in other names are beyond a static check.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("hub", "connectors", "operations", "permissions", "governance", "bench")
WRITES = {
    "create",
    "bulk_create",
    "bulk_update",
    "update",
    "delete",
    "get_or_create",
    "update_or_create",
    "save",
    "_raw_delete",
}
SQL_WRITE = re.compile(
    r"\b(insert\s+into|update|delete\s+from|truncate(\s+table)?|copy)\s+\"?\w*_record\b",
    re.IGNORECASE,
)


def _root(node: ast.expr) -> ast.expr:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node


def record_writes(source: str) -> list[int]:
    """Line numbers of record writes in one module's source."""
    tree = ast.parse(source)
    names = {"Record"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names |= {a.asname for a in node.names if a.name == "Record" and a.asname}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            root = _root(node.func.value)
            if node.func.attr in WRITES and isinstance(root, ast.Name) and root.id in names:
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and SQL_WRITE.search(node.value)
        ):
            lines.append(node.lineno)
    return sorted(lines)


# Files allowed to write records outside the store, with the reason.
EXEMPT = {
    "bench/bench_permissions.py": (
        "builds a synthetic catalog of bench-only resources (resources, fields, grants, "
        "records) in raw SQL and drops it the same way; no load ever runs on them"
    ),
    "bench/bench_scale.py": (
        "generates millions of records of bench-only resources with COPY and clears them "
        "with SQL (the ORM would take hours at that size); its CSV ingest goes through the "
        "store"
    ),
}


def sources() -> list[Path]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = set(path.relative_to(ROOT).parts)
            if parts & {"migrations", "tests"} or path.name.startswith("recordstore"):
                continue
            if path.relative_to(ROOT).as_posix() in EXEMPT:
                continue
            found.append(path)
    return found


def test_records_are_written_only_by_the_record_store():
    paths = sources()
    assert any(path.name == "samples.py" for path in paths)  # the scan sees the project
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in paths
        for line in record_writes(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_scan_finds_record_writes():
    source = """
from hub.records.models import Record
from hub.records.models import Record as R

Record.objects.filter(key="a").delete()
Record.objects.bulk_create([])
R.objects.all().update(data={})
Record(key="a").save()
Record.objects.filter(key="a").count()
cursor.execute("DELETE FROM hub_record WHERE resource_id = %s", [1])
cursor.execute("SELECT key FROM hub_record")
"""
    assert record_writes(source) == [5, 6, 7, 8, 10]
