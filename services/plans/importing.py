"""Importing a plan's appendix table (CSV or XLSX) as a draft plan (no HTTP, no commits).

The whole import is one unit of work: a table that fails half-way leaves nothing behind. Rows
stream from the file into batched inserts, so memory stays flat whatever the file's size. The
same file imported again for the same issuer and year is recognised by its SHA-256 and changes
nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TypedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.models import Plan, Unit
from services.plans.planning import NodeDraft, NodeWriter, create_plan
from services.plans.schemas import (
    ImportReport,
    NodeKind,
    PlanImportIn,
    PlanIn,
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
        raise FileTooLarge(f"The file is larger than {limit} bytes.", errors=[{"field": "file", "message": "too large"}])


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
    """SHA-256 of a seekable file, read in chunks; the file is rewound."""
    digest = hashlib.sha256()
    while chunk := source.read(_HASH_CHUNK):
        digest.update(chunk)
    source.seek(0)
    return digest.hexdigest()


async def import_plan(uow: UnitOfWork, source: IO[bytes], filename: str, form: PlanImportIn) -> ImportReport:
    """Read a table into a new draft plan and report what was read, typed and matched."""
    session = uow.session
    unit = await resolve_issuer(session, form.issuer)
    year = form.year
    sha256 = file_digest(source)
    known = await session.scalar(
        select(Plan).where(Plan.issuer_code == unit.code, Plan.year == year, Plan.source_sha256 == sha256)
    )
    if known is not None:
        return ImportReport.model_validate({**(known.import_report or {}), "plan_id": known.id, "unchanged": True})
    try:
        _, rows = open_table(source, filename)
        plan = await create_plan(
            uow,
            PlanIn(
                issuer_code=unit.code,
                number=form.number or None,
                title=form.title or f"Kế hoạch CCHC năm {year} ({unit.name})",
                issued_on=form.issued_on,
                year=year,
            ),
            source_name=filename,
            source_sha256=sha256,
        )
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
    )
    plan.import_report = report.model_dump(mode="json", exclude={"plan_id", "unchanged"})
    return report


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
