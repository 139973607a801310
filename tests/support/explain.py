"""What a list test asserts of the statement a list ran on PostgreSQL: the statements a request
ran (with their parameters), their plans as ``EXPLAIN ANALYZE`` shows them, and how much of the
tables a plan read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from shared.db import Database

Statement = tuple[str, Any]  # SQL text and its parameters, as the driver received them


@contextmanager
def statements_run(db: Database, *tables: str) -> Iterator[list[Statement]]:
    """The statements reading ``FROM`` one of ``tables`` run on ``db`` (writer or reader engine,
    or at the driver's speed through ``Database.read``) while the block runs, in order."""
    seen: list[Statement] = []
    markers = [f"FROM {table}" for table in tables]

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if any(marker in statement for marker in markers):
            seen.append((statement, tuple(parameters)))

    reads = db._reads  # noqa: SLF001 - the driver-speed reads have no SQLAlchemy event to listen to
    fetch = reads.fetch

    async def noting_fetch(sql: str, arguments: list[Any], *, point: bool) -> Any:
        note(None, None, sql, arguments)
        return await fetch(sql, arguments, point=point)

    engines = [db.engine.sync_engine, db.reader.sync_engine]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", note)
    reads.fetch = noting_fetch  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        reads.fetch = fetch  # type: ignore[method-assign]
        for engine in engines:
            event.remove(engine, "before_cursor_execute", note)


async def explain(db: Database, statement: Statement) -> dict[str, Any]:
    """The plan PostgreSQL runs ``statement`` with, run (``EXPLAIN ANALYZE``, JSON)."""
    sql, parameters = statement
    async with db.engine.connect() as connection:
        explained = await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", parameters)
        plan: dict[str, Any] = explained.scalar_one()[0]["Plan"]  # json, decoded by the driver
    return plan


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of ``plan``, depth first."""
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def rows_read(plan: dict[str, Any], tables: set[str]) -> int:
    """Rows (or index entries) the scans of ``tables`` returned or threw away, over all their loops
    (EXPLAIN shows the removed rows per loop)."""
    read = 0
    for node in nodes(plan):
        if node.get("Relation Name") in tables:
            removed = node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
            read += (node["Actual Rows"] + removed) * node.get("Actual Loops", 1)
    return read


def assert_reads_through(plan: dict[str, Any], index: str, tables: set[str], most: int, case: str) -> None:
    """``plan`` reads ``index``, no table of ``tables`` sequentially, at most ``most`` of their rows."""
    shown = json.dumps(plan, indent=1)
    assert not [n for n in nodes(plan) if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in tables], (
        case,
        shown,
    )
    assert index in {n.get("Index Name") for n in nodes(plan)}, (case, shown)
    read = rows_read(plan, tables)
    assert read <= most, (case, read, shown)
