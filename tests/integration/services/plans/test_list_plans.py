"""The plans lists read a page through the index meant for it (PostgreSQL), so a later change
cannot fall back to reading a table.

20,000 plans of 200 units over ten years (each year's plans a stretch of ids), 20 of them with 2,000 tasks each (40,000 tasks, an
obligation each for one of 40 communes, four due dates a year: 160,000 occurrences), are loaded by SQL and analysed.
Each list's first page and a deep one are read through the query function the route calls, and
the statement it ran is explained (``EXPLAIN ANALYZE``) with its parameters: no sequential scan,
the intended index in the plan, at most a few thousand rows read for a page.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans import queries
from tests.support.explain import assert_reads_through, explain, nodes, statements_run
from tests.support.plans import VAN_QUAN, Plans

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("backend", ["postgres"], indirect=True)]
COMMUNES = 40  # owing the tasks; 200 units issue the plans, the communes among them
ISSUERS = 200
TODAY = date(2024, 12, 20)
TABLES = {"plans", "plan_nodes", "obligations", "occurrences"}


def unit(n: int) -> str:
    return f"T.{n:03d}.H20"


FILL = [
    """INSERT INTO units (code, name, aliases, level, parent_code, version, updated_at)
    SELECT 'T.' || lpad(n::text, 3, '0') || '.H20', 'Xã thử ' || n, '[]', 'commune', :issuer, 1, now()
    FROM generate_series(0, :issuers - 1) AS n""",
    """INSERT INTO plans (issuer_code, title, year, status, progress, version, revision, created_at, updated_at)
    SELECT 'T.' || lpad((p % :issuers)::text, 3, '0') || '.H20', 'Kế hoạch ' || p, 2015 + (p - 1) / 2000, 'published',
        0, 1, 1, now(), now()
    FROM generate_series(1, 20000) AS p ORDER BY p""",
    # tasks of the first 20 plans: "<i> nhiem vu <plan>.<i> bao cao", every one led by a commune
    """INSERT INTO plan_nodes (plan_id, kind, label, title, position, unmatched, weight, progress, search_text, dues)
    SELECT p.id, 'task', i::text, 'Nhiệm vụ ' || p.id || '.' || i, i, '[]', 1, 0,
        i || ' nhiem vu ' || p.id || '.' || i || ' bao cao', '[]'
    FROM (SELECT id FROM plans ORDER BY id LIMIT 20) AS p, generate_series(1, 2000) AS g(i) ORDER BY p.id, g.i""",
    """INSERT INTO obligations (plan_id, node_id, unit_code, role, status, percent, evidence, version, updated_at)
    SELECT plan_id, id, 'T.' || lpad((id % :communes)::text, 3, '0') || '.H20', 'lead', 'not_started', 0, '[]', 1,
        now()
    FROM plan_nodes ORDER BY id""",
    # four due dates a year, spread over each quarter's first 90 days; a third of them done
    """INSERT INTO occurrences (obligation_id, plan_id, unit_code, due, status, percent, evidence, version)
    SELECT o.id, o.plan_id, o.unit_code, date '2024-01-01' + (g.q * 91 + o.node_id % 90)::int,
        CASE WHEN o.node_id % 3 = 0 THEN 'done' ELSE 'not_started' END, 0, '[]', 1
    FROM obligations AS o, generate_series(0, 3) AS g(q) ORDER BY o.id, g.q""",
]


@pytest.fixture
async def loaded(plans: Plans) -> Plans:
    async with plans.context.db.engine.begin() as connection:
        for statement in FILL:
            await connection.execute(text(statement), {"issuer": VAN_QUAN, "communes": COMMUNES, "issuers": ISSUERS})
        await connection.execute(text("ANALYZE"))
    return plans


Page = Callable[[AsyncSession, str | None], Awaitable[Any]]  # (session, cursor) → a page


def owed(session: AsyncSession, cursor: str | None) -> Awaitable[Any]:
    return queries.owed(session, unit(7), date(2024, 3, 1), date(2024, 3, 31), TODAY, cursor=cursor)


def overdue(session: AsyncSession, cursor: str | None) -> Awaitable[Any]:
    return queries.overdue(session, unit(7), TODAY, cursor=cursor)


def search(words: str) -> Page:
    return lambda session, cursor: queries.search_tasks(session, words, cursor=cursor)


def plans_of(**filters: Any) -> Page:
    return lambda session, cursor: queries.list_plans(session, cursor=cursor, **filters)


# a list, its intended index (of the first page, of the deep page when it differs), how many pages
# in its deep page is (0: one page only), the first page's size; a commune owes ~330 occurrences in
# March, has ~2,600 overdue
CASES: dict[str, tuple[Page, str | tuple[str, str], int, int]] = {
    "owed in a month": (owed, "ix_occurrences_unit_code_due", 2, 100),
    "overdue of a commune": (overdue, "ix_occurrences_unit_code_due", 10, 100),
    "tasks: a rare word": (search("7.1999"), "ix_plan_nodes_search_text", 0, 2),  # 7.1999 and 17.1999
    "tasks: a word of every task": (search("nhiem"), "pk_plan_nodes", 20, 50),
    # the year's plans are ids 8,001-10,000: past the cursor, the key is walked from inside them
    "plans of a year": (plans_of(year=2019), ("ix_plans_year", "pk_plans"), 20, 50),
    "plans of an issuer": (plans_of(issuer_code=unit(3)), "ix_plans_issuer_code", 1, 50),  # 100 plans
}
# the few matches read through the index and sorted: a rare word's; an issuer's plans past the
# cursor (the planner may fetch them all from the index, they are a hundred)
SORTED = {"tasks: a rare word", "plans of an issuer"}


async def test_each_list_reads_its_page_through_its_index(loaded: Plans):
    db = loaded.context.db
    for case, (page_of, index, deep, size) in CASES.items():  # one load for all: it takes most of the time
        with statements_run(db, *TABLES) as statements:
            async with db.session() as session:
                first = await page_of(session, None)
                cursor = first.next_cursor
                for _ in range(deep):
                    assert cursor is not None, case  # (else the next call would read the first page again)
                    page = await page_of(session, cursor)
                    cursor = page.next_cursor
        assert len(first.items) == size, (case, len(first.items))
        if deep:
            assert len(page.items) == size, case
            assert not [item for item in page.items if item in first.items], case
        if case.startswith("tasks"):  # planned for its words: a generic plan would not know how rare they are
            assert all(re.search(r"LIKE '%[^'%]+%'", sql) for sql, _ in (statements[0], statements[-1])), case
        indexes = (index, index) if isinstance(index, str) else index
        for statement, read_through in zip((statements[0], statements[-1]), indexes, strict=True):
            plan = await explain(db, statement)
            assert_reads_through(plan, read_through, TABLES, 2_000, case)
            if case not in SORTED:  # read in page order: no sort, even of one due date's ties
                assert not [n for n in nodes(plan) if "Sort" in n["Node Type"]], (case, plan)
