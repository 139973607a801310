"""Read side of the plans service: what a unit owes, what is overdue, text search, plan lists.

Lists are paged by an opaque cursor (the sort key of the last item, base64url JSON), so a page
is one index range scan however deep the reader goes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import TypeAlias, TypeVar

from sqlalchemy import ColumnElement, Integer, Select, bindparam, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.models import Obligation, Occurrence, Plan, PlanNode
from services.plans.schemas import (
    NodeKind,
    ObligationOut,
    OccurrenceOut,
    OwedItem,
    OwedPage,
    PlanOut,
    PlanPage,
    PlanStatus,
    ProgressStatus,
    TaskHit,
    TaskPage,
)
from services.plans.textnorm import fold
from services.plans.visibility import plan_visible
from shared.paging import MAX_PAGE, decode_cursor, encode_cursor
from shared.problems import DomainError
from shared.scope import WHOLE_SYSTEM, Scope

T = TypeVar("T")


async def by_code(
    fetch: Callable[[str | None, int], Awaitable[Sequence[T]]], code: Callable[[T], str], cursor: str | None, limit: int
) -> tuple[list[T], str | None]:
    """A page of a list in code order (units, groups): ``fetch(after, limit)`` reads the rows;
    the cursor of the next page, or None on the last."""
    after = decode_cursor(cursor, 1)
    size = min(limit, MAX_PAGE)
    rows = list(await fetch(None if after is None else str(after[0]), size + 1))
    return rows[:size], encode_cursor(code(rows[size - 1])) if len(rows) > size else None


# occurrence, obligation, node label, title and kind, plan number and title
_OwedQuery: TypeAlias = "Select[Occurrence, Obligation, str | None, str, str, str | None, str]"


def _owed_query(unit_code: str) -> _OwedQuery:
    return (
        select(Occurrence, Obligation, PlanNode.label, PlanNode.title, PlanNode.kind, Plan.number, Plan.title)
        .join(Obligation, Obligation.id == Occurrence.obligation_id)
        .join(PlanNode, PlanNode.id == Obligation.node_id)
        .join(Plan, Plan.id == Occurrence.plan_id)
        .where(
            Occurrence.unit_code == unit_code, Plan.status == PlanStatus.published, Obligation.withdrawn_at.is_(None)
        )
        .order_by(Occurrence.due, Occurrence.id)
    )


async def owed(
    session: AsyncSession,
    unit_code: str,
    start: date,
    end: date,
    today: date,
    *,
    cursor: str | None = None,
    limit: int = 100,
) -> OwedPage:
    """Occurrences unit ``unit_code`` owes (lead or coordinating) with a due date in [start, end],
    in published plans, by due date (not those of groups it left)."""
    if end < start:
        raise DomainError("The period ends before it starts.", errors=[{"field": "to", "message": "before from"}])
    query = _owed_query(unit_code).where(Occurrence.due >= start, Occurrence.due <= end)
    return await _owed_page(session, query, today, cursor, limit)


async def overdue(
    session: AsyncSession, unit_code: str, today: date, *, cursor: str | None = None, limit: int = 100
) -> OwedPage:
    """Occurrences of unit ``unit_code`` past their due date and not done, oldest first."""
    query = _owed_query(unit_code).where(Occurrence.due < today, Occurrence.status != ProgressStatus.done)
    return await _owed_page(session, query, today, cursor, limit)


async def _owed_page(session: AsyncSession, query: _OwedQuery, today: date, cursor: str | None, limit: int) -> OwedPage:
    after = decode_cursor(cursor, 2)
    if after is not None:
        query = query.where(tuple_(Occurrence.due, Occurrence.id) > (date.fromisoformat(after[0]), int(after[1])))
    rows = (await session.execute(query.limit(min(limit, MAX_PAGE) + 1))).all()
    page = rows[: min(limit, MAX_PAGE)]
    items = [
        OwedItem(
            occurrence_id=occurrence.id,
            due=occurrence.due,
            done_on=occurrence.done_on,
            overdue=occurrence.status != ProgressStatus.done and occurrence.due < today,
            occurrence=OccurrenceOut.model_validate(occurrence),
            obligation=ObligationOut.model_validate(obligation),
            plan_id=occurrence.plan_id,
            plan_number=number,
            plan_title=plan_title,
            node_label=label,
            node_title=title,
            node_kind=NodeKind(kind),
        )
        for occurrence, obligation, label, title, kind, number, plan_title in page
    ]
    last = page[-1][0] if page and len(rows) > len(page) else None
    return OwedPage(items=items, next_cursor=encode_cursor(last.due.isoformat(), last.id) if last else None)


async def search_tasks(
    session: AsyncSession,
    text: str,
    *,
    plan_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
    scope: Scope = WHOLE_SYSTEM,
) -> TaskPage:
    """Tasks and activities of the plans ``scope`` sees whose label, title or product contain every
    word of ``text`` (ignoring case and diacritics), in plan order."""
    words = fold(text).split()
    if not words:
        raise DomainError("Say what to look for.", errors=[{"field": "q", "message": "empty search"}])
    query = select(PlanNode).where(
        PlanNode.kind.in_([NodeKind.task, NodeKind.activity]),
        PlanNode.removed_at.is_(None),
        *[_containing(w) for w in words],
    )
    if plan_id is not None:
        query = query.where(PlanNode.plan_id == plan_id)
    if not scope.whole_system:
        query = query.where(PlanNode.plan_id.in_(select(Plan.id).where(plan_visible(scope))))
    after = decode_cursor(cursor, 1)
    if after is not None:
        query = query.where(PlanNode.id > int(after[0]))
    size = min(limit, MAX_PAGE)
    read = bindparam("read", size + 1, Integer, literal_execute=True)  # a literal too: see _containing
    nodes = (await session.scalars(query.order_by(PlanNode.id).limit(read))).all()
    hits = [
        TaskHit(
            id=n.id,
            plan_id=n.plan_id,
            kind=NodeKind(n.kind),
            label=n.label,
            title=n.title,
            schedule_raw=n.schedule_raw,
            progress=n.progress,
        )
        for n in nodes[:size]
    ]
    return TaskPage(items=hits, next_cursor=encode_cursor(nodes[size - 1].id) if len(nodes) > size else None)


def _containing(word: str) -> ColumnElement[bool]:
    """The node's folded text contains ``word`` (``%``, ``_`` and ``/`` in it match themselves).

    The pattern is written into the statement (``literal_execute``), not sent as a parameter: the
    statement is prepared, and after five calls PostgreSQL may plan it once for any word, which
    walks every task in id order for a rare one (60 ms instead of 4 at 100,000 tasks). Written
    in, each word is planned knowing how rare it is: the trigram index for a rare one, the key
    walk for a word most tasks hold (docs/performance.md, "Plans lists")."""
    escaped = word.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return PlanNode.search_text.like(bindparam(None, f"%{escaped}%", literal_execute=True), escape="/")


async def list_plans(
    session: AsyncSession,
    *,
    issuer_code: str | None = None,
    year: int | None = None,
    status: PlanStatus | None = None,
    parent_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
    scope: Scope = WHOLE_SYSTEM,
) -> PlanPage:
    """Plans ``scope`` sees, newest id first, optionally of one issuer, year, status, or parent plan."""
    filters = [
        condition
        for condition in (
            Plan.issuer_code == issuer_code if issuer_code is not None else None,
            Plan.year == year if year is not None else None,
            Plan.status == status if status is not None else None,
            Plan.parent_id == parent_id if parent_id is not None else None,
        )
        if condition is not None
    ]
    filters.append(plan_visible(scope))
    after = decode_cursor(cursor, 1)
    if after is not None:
        filters.append(Plan.id < int(after[0]))
    size = min(limit, MAX_PAGE)
    plans = (await session.scalars(select(Plan).where(*filters).order_by(Plan.id.desc()).limit(size + 1))).all()
    return PlanPage(
        items=[PlanOut.model_validate(p) for p in plans[:size]],
        next_cursor=encode_cursor(plans[size - 1].id) if len(plans) > size else None,
    )
