"""The publisher: woken by the consumer's commit, not a tick; ``indicator.changed`` spaced a second
apart per (unit, period, code), the last value going out, the spacing kept in the database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.scoring import ledger, queries
from services.scoring.periods import month_index, month_period
from services.scoring.publisher import next_due, publish_pending
from shared.clock import VN_TZ
from tests.integration.services.scoring.conftest import Fed, Scoring, received, resolved, two_units
from tests.support.outbox import committed_events

CHANGED = "indicator.changed"


async def changes(scoring: Fed, unit: str, period: str, code: str) -> list[dict[str, Any]]:
    """The ``indicator.changed`` events of one key committed so far, oldest first."""
    found = await committed_events(scoring.context, CHANGED, unit)
    return [e for e in found if e["data"]["period"] == period and e["data"]["code"] == code]


async def until_published(scoring: Fed, key: tuple[str, str, str], value: float, within: float = 5.0) -> float:
    """Wait for ``key``'s event with ``value``; the monotonic instant it was seen."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if any(e["data"]["value"] == value for e in await changes(scoring, *key)):
            return time.monotonic()
        await asyncio.sleep(0.01)
    raise AssertionError(f"no indicator.changed {key} = {value} within {within} s")


def instant(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["time"])


async def first_receipt(scoring: Fed) -> tuple[tuple[str, str, str], datetime]:
    """Two units, and a dossier received now in C1: the key of the province's receipts this month."""
    await two_units(scoring)
    now = datetime.now(UTC)
    await received(scoring, "D1", "C1", now, now + timedelta(days=3))
    return ("P1", month_period(month_index(now)).text, "dossiers.received"), now


async def test_a_change_is_published_as_soon_as_the_consumer_commits_it(live_scoring: Fed) -> None:
    scoring = live_scoring
    key, _ = await first_receipt(scoring)
    committed = time.monotonic()
    seen = await until_published(scoring, key, 1)  # asleep for up to a minute: only the commit's poke wakes it
    assert seen - committed < 1.0  # the old tick's worst case; nothing waits for a tick now


async def test_two_changes_within_a_second_go_out_a_second_apart_with_the_last_value(live_scoring: Fed) -> None:
    scoring = live_scoring
    key, now = await first_receipt(scoring)
    await until_published(scoring, key, 1)
    (first,) = await changes(scoring, *key)
    await received(scoring, "D2", "C1", now, now + timedelta(days=3))
    await received(scoring, "D3", "C2", now, now + timedelta(days=3))
    assert datetime.now(UTC) < instant(first) + timedelta(seconds=1), "the machine was too slow to test this"
    await until_published(scoring, key, 3)
    events = await changes(scoring, *key)
    assert [e["data"]["value"] for e in events] == [1, 3]  # 2 was never published: 3 came within the second
    gap = instant(events[1]) - instant(events[0])
    assert timedelta(seconds=1) <= gap < timedelta(seconds=1.5)  # held until its second was up, then sent


async def test_each_key_has_its_own_second_and_a_held_change_survives_a_restart(
    start_scoring: Callable[..., Any],
) -> None:
    t0 = datetime(2024, 8, 1, 9, tzinfo=VN_TZ)
    scoring: Scoring = await start_scoring(t0)
    await two_units(scoring)
    month = "2024-08"

    async def publish(service: Scoring) -> dict[tuple[str, str], float | None]:
        """One pass; the (unit, code) → value of the month's events it emitted."""
        before = len(await committed_events(service.context, CHANGED))
        await publish_pending(service.context)
        emitted = (await committed_events(service.context, CHANGED))[before:]
        return {
            (e["data"]["unit"], e["data"]["code"]): e["data"]["value"] for e in emitted if e["data"]["period"] == month
        }

    await received(scoring, "D0", "C1", t0, t0 + timedelta(days=3))
    first = await publish(scoring)
    assert first[("P1", "dossiers.received")] == 1 and first[("P1", "dossiers.resolved")] == 0
    assert ("P1", "payments.online_rate") not in first  # no dossier finished with fees: no value yet

    scoring.clock.set(t0 + timedelta(seconds=0.5))
    await resolved(scoring, "D0", "C1", t0, t0 + timedelta(days=3), t0 + timedelta(seconds=0.5))
    await received(scoring, "D1", "C2", t0, t0 + timedelta(days=3))
    half = await publish(scoring)
    assert half[("C2", "dossiers.received")] == 1  # another unit: never published, goes at once
    assert half[("P1", "payments.online_rate")] == 1.0  # another code of the same unit and period: too
    for held in (("P1", "dossiers.received"), ("P1", "dossiers.resolved"), ("C1", "dossiers.resolved")):
        assert held not in half  # published half a second ago: they wait
    assert await next_due(scoring.context) == t0 + timedelta(seconds=1)  # what the scheduler sleeps until

    scoring.clock.set(t0 + timedelta(seconds=0.9))
    await received(scoring, "D2", "C1", t0, t0 + timedelta(days=3))  # P1 received moves again, still held
    assert await publish(scoring) == {}
    assert await publish(scoring) == {}  # and the hold is not lost by a pass that finds nothing due

    restarted: Scoring = await start_scoring(t0 + timedelta(seconds=1))  # same database, nothing in memory
    assert await next_due(restarted.context) == t0 + timedelta(seconds=1)
    after = await publish(restarted)
    assert after[("P1", "dossiers.received")] == 3  # the last value, not the 2 of half a second ago
    assert after[("P1", "dossiers.resolved")] == 1 and after[("C1", "dossiers.resolved")] == 1
    assert ("C2", "dossiers.received") not in after  # unchanged since it went out
    assert await publish(restarted) == {} and await next_due(restarted.context) is None


async def one_marked_month(start_scoring: Callable[..., Any]) -> tuple[Scoring, datetime]:
    """Scoring on a manual clock at ``t0``, with a dossier received in C1: (C1, August 2024) marked."""
    t0 = datetime(2024, 8, 1, 9, tzinfo=VN_TZ)
    scoring: Scoring = await start_scoring(t0)
    await two_units(scoring)
    await received(scoring, "D0", "C1", t0, t0 + timedelta(days=3))
    return scoring, t0


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite has one writer: a pass holds it anyway
async def test_a_consumer_marking_a_month_during_a_pass_does_not_wait_for_it(
    start_scoring: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    scoring, t0 = await one_marked_month(start_scoring)
    computing, finish = asyncio.Event(), asyncio.Event()
    unit_sums = queries.unit_sums

    async def slow_sums(*args: Any, **kwargs: Any) -> Any:
        computing.set()
        await finish.wait()  # the pass's transaction stays open meanwhile
        return await unit_sums(*args, **kwargs)

    monkeypatch.setattr(queries, "unit_sums", slow_sums)
    publishing = asyncio.create_task(publish_pending(scoring.context))
    await asyncio.wait_for(computing.wait(), 10)

    async def mark_again() -> None:  # what the consumer writes for D1: the same (unit, month)
        async with scoring.context.uow() as uow:
            await ledger.mark_dirty(uow.session, [("C1", month_index(t0))])
            await uow.commit()

    await asyncio.wait_for(mark_again(), 5)  # waited for the whole pass before the marks were claimed apart
    finish.set()
    assert await publishing > 0
    assert await next_due(scoring.context) == t0  # the new mark is kept for the next pass


async def test_a_pass_that_fails_leaves_its_claims_to_the_next(
    start_scoring: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    scoring, t0 = await one_marked_month(start_scoring)

    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the figures could not be read")

    with monkeypatch.context() as patched:
        patched.setattr(queries, "unit_sums", failing)
        with pytest.raises(RuntimeError):
            await publish_pending(scoring.context)
    assert await next_due(scoring.context) == t0  # claimed, not published: due at once

    await publish_pending(scoring.context)
    [event] = await changes(scoring, "P1", "2024-08", "dossiers.received")
    assert event["data"]["value"] == 1
    assert await next_due(scoring.context) is None
