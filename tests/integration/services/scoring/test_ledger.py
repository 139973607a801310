"""The batch write of the read model: an event that moves no counter writes its dossier's state
but no counter and marks no month for the publisher; one that moves counters does both."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from services.scoring import ledger
from services.scoring.models import COUNTERS_TABLE, UNIT_MONTHS
from services.scoring.periods import month_index
from tests.integration.services.scoring.conftest import Scoring, envelope
from tests.integration.services.scoring.test_api import NOW, received, resolved, two_units

MARCH = datetime(2024, 3, 4, 9, 0, tzinfo=NOW.tzinfo)


async def model(scoring: Scoring) -> tuple[set[tuple[str, int]], set[tuple], set[tuple], bool]:
    """Dirty months, counter rows, unit-month rows, and whether the dossier is marked apologised."""
    async with scoring.context.uow() as uow:
        session = uow.session
        dirty = {(r.unit, r.month) for r in await session.execute(select(ledger.DIRTY))}
        counters = {tuple(r) for r in await session.execute(select(COUNTERS_TABLE))}
        months = {tuple(r) for r in await session.execute(select(UNIT_MONTHS))}
        apologised = await session.scalar(select(ledger.DOSSIERS.c.apologised))
        await session.execute(delete(ledger.DIRTY))  # the publisher's part: it looked
        await uow.commit()
    return dirty, counters, months, bool(apologised)


async def letter(scoring: Scoring, key: str) -> None:
    data = {"ma_ho_so": key, "letter_id": 1, "number": "1/TB", "issued_at": NOW.isoformat()}
    await scoring.deliver([envelope("letter.issued", key, data, NOW, "cchc.notifications")])


async def test_an_event_that_moves_no_counter_marks_no_month(start_scoring: Callable[..., Any]) -> None:
    scoring = await start_scoring(NOW)
    await two_units(scoring)
    await received(scoring, "H-1", "C1", MARCH, MARCH + timedelta(days=5))
    dirty, counters, months, apologised = await model(scoring)
    assert dirty == {("C1", month_index(MARCH))} and len(counters) == len(months) == 1 and not apologised

    await letter(scoring, "H-1")  # open and not late: an apology changes the state, no counter
    assert await model(scoring) == (set(), counters, months, True)

    # positive control: finished late in April, it counts there and marks April
    await resolved(scoring, "H-1", "C1", MARCH, MARCH + timedelta(days=5), MARCH + timedelta(days=30))
    dirty, after, months_after, _ = await model(scoring)
    assert dirty == {("C1", month_index(MARCH)), ("C1", month_index(MARCH) + 1)}
    assert after != counters and months_after != months
