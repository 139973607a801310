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
    counter = upsert(session, COUNTERS).values(unit_code=unit_code, year=year, last=1)
    statement = counter.on_conflict_do_update(
        index_elements=["unit_code", "year"], set_={"last": COUNTERS.c.last + 1}
    ).returning(COUNTERS.c.last)
    return int((await session.execute(statement)).scalar_one())
