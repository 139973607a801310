"""Letter numbers per issuing unit and year without gaps: ``12/PXL``.

The counter row is bumped by one statement in the issuing transaction. On PostgreSQL the row
lock makes concurrent issuers of one unit queue (each reads the number the previous committed);
on SQLite every transaction holds the write lock. A rolled-back issue gives its number back.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.letters.models import LetterCounter
from shared.db import upsert

COUNTERS = LetterCounter.__table__


async def next_number(session: AsyncSession, unit_code: str, year: int) -> int:
    """The next number of ``unit_code`` in ``year`` (1 for the first)."""
    return (await take_numbers(session, year, {unit_code: 1}))[unit_code]


async def take_numbers(session: AsyncSession, year: int, counts: dict[str, int]) -> dict[str, int]:
    """Take ``counts[unit]`` consecutive numbers of each unit in ``year`` in one statement (units
    in key order, so concurrent takers lock the rows in one order); answers the first of each run."""
    rows = [{"unit_code": unit, "year": year, "last": counts[unit]} for unit in sorted(counts)]
    counter = upsert(session, COUNTERS)
    statement = counter.on_conflict_do_update(
        index_elements=["unit_code", "year"], set_={"last": COUNTERS.c.last + counter.excluded.last}
    ).returning(COUNTERS.c.unit_code, COUNTERS.c.last)
    return {unit: last - counts[unit] + 1 for unit, last in (await session.execute(statement, rows)).all()}
