"""Importing a plan's appendix table (CSV or XLSX) as a draft plan (no HTTP, no commits).

The whole import is one unit of work: a table that fails half-way leaves nothing behind. Rows
stream from the file into batched inserts, so memory stays flat whatever the file's size. An
import is keyed by what the table says, not by its bytes: the same rows imported again for the
same issuer and year (as UTF-8, UTF-8 with BOM, Windows-1258 or XLSX) change nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TypedDict

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.models import Plan, PlanNode, Unit
from services.plans.planning import NodeDraft, NodeWriter, create_plan
from services.plans.schemas import (
    ImportReport,
    NodeKind,
    PlanImportIn,
    PlanIn,
    PlanStatus,
    ScheduleCounts,
    UnitCounts,
)
from services.plans.table_reader import (
    EmptyFile,
    MissingColumns,
    TableError,
    TableRow,
    UnreadableEncoding,
    UnsupportedFormat,
    open_table,
)
from services.plans.textnorm import fold
from shared.problems import DomainError
from shared.scope import WHOLE_SYSTEM, Scope
from shared.uow import UnitOfWork

_AREA_LABEL = re.compile(r"^((?:[IVXLC]+|\d+)(?:\.[\w\d]+)*)\.?\s+(.+)$")
_HASH_CHUNK = 1 << 20


class TableProblem(DomainError):
    """A table that cannot be imported as it is (422, with what to fix)."""

    status = 422

    def __init__(self, exc: TableError) -> None:
        super().__init__(
            str(exc), errors=[{"field": "file", "message": str(exc), **({"column": exc.column} if exc.column else {})}]
        )
        self.code = _CODES.get(type(exc), "unreadable_table")
        if isinstance(exc, MissingColumns):
            self.extra = {"missing_columns": exc.missing, "headers_found": exc.found}


class FileTooLarge(DomainError):
    status = 413
    code = "file_too_large"


def check_size(size: int | None, limit: int) -> None:
    """Refuse an upload larger than ``limit`` bytes (413)."""
    if size is not None and size > limit:
        raise FileTooLarge(
            f"The file is larger than {limit} bytes.", errors=[{"field": "file", "message": "too large"}]
        )


_CODES: dict[type[TableError], str] = {
    MissingColumns: "missing_columns",
    UnreadableEncoding: "unreadable_encoding",
    EmptyFile: "empty_file",
    UnsupportedFormat: "unsupported_format",
}


async def resolve_issuer(session: AsyncSession, issuer: str) -> Unit:
    """The issuing unit by its code, or by a name or alias (ignoring case and diacritics)."""
    unit = await session.get(Unit, issuer.strip())
    if unit is not None:
        return unit
    wanted = fold(issuer)
    found = [u for u in await session.scalars(select(Unit)) if wanted in {fold(n) for n in (u.name, *u.aliases)}]
    if len(found) == 1:
        return found[0]
    reason = "no unit has this code, name or alias" if not found else f"ambiguous: {', '.join(u.code for u in found)}"
    raise DomainError(
        f"Cannot tell which unit issued the plan from {issuer!r}.", errors=[{"field": "issuer", "message": reason}]
    )


def file_digest(source: IO[bytes]) -> str:
    """SHA-256 of a seekable file's bytes, read in chunks; the file is rewound. Plans imported
    before imports were keyed by content carry this key."""
    digest = hashlib.sha256()
    while chunk := source.read(_HASH_CHUNK):
        digest.update(chunk)
    source.seek(0)
    return digest.hexdigest()


_ROW_FIELDS = [f.name for f in dataclasses.fields(TableRow) if f.name != "line"]


def row_content(row: TableRow) -> str:
    """A row's cells, whitespace collapsed, serialised stably (its line number is not content)."""
    cells = [getattr(row, name) for name in _ROW_FIELDS]
    return json.dumps([" ".join(c.split()) if isinstance(c, str) else c for c in cells], ensure_ascii=False)


@dataclass(frozen=True)
class TableKey:
    """What a table says: ``digest`` is the SHA-256 of its rows in order; ``rows`` maps each row's
    identity (section, number, task, activity; a repeat gets ``#2``, ``#3``...) to a digest of its cells."""

    digest: str
    rows: dict[str, str]


def read_key(source: IO[bytes], filename: str) -> TableKey:
    """A table's key: one pass streamed over a seekable file, which is rewound. Encoding, BOM,
    delimiter, format and blank lines do not change it."""
    digest = hashlib.sha256()
    rows: dict[str, str] = {}
    seen: Counter[str] = Counter()
    _, table = open_table(source, filename)
    for row in table:
        content = row_content(row).encode()
        digest.update(content + b"\n")
        identity = _short(
            json.dumps([" ".join(v.split()) for v in (row.section or "", row.label, row.title, row.activity)])
        )
        seen[identity] += 1
        rows[identity if seen[identity] == 1 else f"{identity}#{seen[identity]}"] = _short(content)
    source.seek(0)
    return TableKey(digest.hexdigest(), rows)


def _short(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()[:16]


def row_changes(before: dict[str, str], after: dict[str, str]) -> dict[str, int]:
    """Rows added, changed (same identity, other cells) and removed between two imports."""
    return {
        "rows_added": sum(1 for k in after if k not in before),
        "rows_changed": sum(1 for k, v in after.items() if k in before and before[k] != v),
        "rows_removed": sum(1 for k in before if k not in after),
    }


_NO_CHANGE = {"rows_added": 0, "rows_changed": 0, "rows_removed": 0}


async def import_plan(
    uow: UnitOfWork, source: IO[bytes], filename: str, form: PlanImportIn, scope: Scope = WHOLE_SYSTEM
) -> ImportReport:
    """Read a table into a draft plan and report what was read, typed, matched and changed: a new
    draft, or the issuer's imported draft of that year and title revised in place. The issuer
    must lie in ``scope``."""
    session = uow.session
    unit = await resolve_issuer(session, form.issuer)
    scope.check(unit.code, f"No unit {form.issuer!r} in your scope.", field="issuer")
    year = form.year
    title = form.title or f"Kế hoạch CCHC năm {year} ({unit.name})"
    try:
        key = read_key(source, filename)
        known = await session.scalar(
            select(Plan).where(
                Plan.issuer_code == unit.code,
                Plan.year == year,
                Plan.source_sha256.in_((key.digest, file_digest(source))),
            )
        )
        if known is not None:
            answer = {**(known.import_report or {}), **_NO_CHANGE, "plan_id": known.id, "unchanged": True}
            return ImportReport.model_validate(answer)
        plan = await _imported_draft(session, unit.code, year, title)
        if plan is None:
            before: dict[str, str] = {}
            plan = await create_plan(
                uow,
                PlanIn(
                    issuer_code=unit.code, number=form.number or None, title=title, issued_on=form.issued_on, year=year
                ),
                source_name=filename,
                source_sha256=key.digest,
            )
        else:
            before = await session.scalar(select(Plan.source_rows).where(Plan.id == plan.id)) or {}
            await session.execute(
                delete(PlanNode).where(PlanNode.plan_id == plan.id)
            )  # its nodes' obligations and targets go with them
            plan.source_name, plan.source_sha256 = filename, key.digest
            plan.version += 1
            plan.updated_at = uow.clock.now()
        plan.source_rows = key.rows
        _, rows = open_table(source, filename)
        writer = await NodeWriter.for_plan(uow, plan)
        rows_read = await _write_tree(writer, rows)
    except TableError as exc:
        raise TableProblem(exc) from exc
    tally = writer.tally
    report = ImportReport(
        plan_id=plan.id,
        unchanged=False,
        rows_read=rows_read,
        areas_created=tally.nodes["area"],
        objectives_created=tally.nodes["objective"],
        tasks_created=tally.nodes["task"],
        activities_created=tally.nodes["activity"],
        obligations_created=tally.obligations,
        targets_suggested=tally.targets,
        schedules=ScheduleCounts(**tally.schedules),
        units=UnitCounts(matched=len(tally.matched), unmatched=list(tally.unmatched)),
        **row_changes(before, key.rows),
    )
    plan.import_report = report.model_dump(mode="json", exclude={"plan_id", "unchanged"})
    return report


async def _imported_draft(session: AsyncSession, issuer: str, year: int, title: str) -> Plan | None:
    """The latest draft the issuer imported for ``year`` under ``title``: a revised table replaces its tree."""
    return await session.scalar(
        select(Plan)
        .where(
            Plan.issuer_code == issuer,
            Plan.year == year,
            Plan.title == title,
            Plan.status == PlanStatus.draft,
            Plan.source_sha256.is_not(None),
        )
        .order_by(Plan.id.desc())
        .limit(1)
    )


@dataclass
class _Area:
    node: NodeDraft | None
    objective: NodeDraft | None = None
    objective_text: str = ""
    task: NodeDraft | None = None
    task_title: str = ""
    labels: dict[str, NodeDraft] = field(default_factory=dict)


async def _write_tree(writer: NodeWriter, rows: Iterator[TableRow]) -> int:
    """Place each row in the tree: its section's area, the objective above it, and under the
    task whose printed number prefixes its own ("4.1" under "4"); returns the rows read."""
    areas: dict[str | None, _Area] = {}
    count = 0
    for row in rows:
        count += 1
        area = areas.get(row.section)
        if area is None:
            area = areas[row.section] = _Area(node=_area(writer, row) if row.section else None)
        if row.objective and row.objective != area.objective_text:
            area.objective = writer.draft(NodeKind.objective, area.node, title=row.objective, line=row.line)
            area.objective_text = row.objective
        base = area.objective or area.node
        if row.activity:
            if area.task is None or (row.title and row.title != area.task_title):
                area.task = writer.draft(
                    NodeKind.task, base, title=row.title or row.activity, label=row.label, line=row.line
                )
                area.task_title = row.title
            writer.draft(NodeKind.activity, area.task, title=row.activity, line=row.line, **_cells(row))
        elif row.title:
            parent = area.labels.get(row.label.rsplit(".", 1)[0]) if "." in row.label else None
            node = writer.draft(
                NodeKind.activity if parent else NodeKind.task,
                parent or base,
                title=row.title,
                label=row.label,
                line=row.line,
                **_cells(row),
            )
            if row.label:
                area.labels[row.label] = node
            if parent is None:
                area.task, area.task_title = node, row.title
        await writer.flush_if_full()
    await writer.flush()
    return count


def _area(writer: NodeWriter, row: TableRow) -> NodeDraft:
    section = row.section or ""
    match = _AREA_LABEL.match(section)
    label, title = (match.group(1), match.group(2)) if match else (None, section)
    return writer.draft(NodeKind.area, None, title=title, label=label, line=row.line)


class _Cells(TypedDict):
    """A row's cells as the keywords of ``NodeWriter.draft``."""

    schedule: str
    lead: str
    coordinating: str
    product: str
    budget_amount: int | None
    budget_text: str
    note: str


def _cells(row: TableRow) -> _Cells:
    return {
        "schedule": row.schedule,
        "lead": row.lead,
        "coordinating": row.coordinating,
        "product": row.product,
        "budget_amount": row.budget_amount,
        "budget_text": row.budget,
        "note": row.note,
    }
