"""The deadline scheduler sleeps until the next due instant, and wakes early when poked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from shared.clock import ManualClock
from shared.deadline_scheduler import DeadlineScheduler

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


class Agenda:
    """Due instants; a sweep fires those at or before now, once."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.pending: list[datetime] = []
        self.fired: list[datetime] = []

    async def next_due(self) -> datetime | None:
        return min(self.pending, default=None)

    async def sweep(self, now: datetime) -> None:
        due = [d for d in self.pending if d <= now]
        self.fired += due
        self.pending = [d for d in self.pending if d > now]


def scheduler(agenda: Agenda, **kw: float) -> DeadlineScheduler:
    return DeadlineScheduler("test", next_due=agenda.next_due, sweep=agenda.sweep, clock=agenda.clock, **kw)


def test_sleeps_until_the_next_due_instant_capped_by_max_sleep() -> None:
    clock = ManualClock(T0)
    s = scheduler(Agenda(clock), max_sleep=60)
    assert s.delay_until(T0 + timedelta(seconds=12)) == 12
    assert s.delay_until(T0 + timedelta(hours=5)) == 60
    assert s.delay_until(None) == 60
    assert s.delay_until(T0 - timedelta(seconds=5)) == 0


async def test_poke_wakes_the_scheduler_to_fire_a_newly_due_instant() -> None:
    clock = ManualClock(T0)
    agenda = Agenda(clock)
    agenda.pending = [T0 + timedelta(hours=1)]
    s = scheduler(agenda, max_sleep=3600)
    task = asyncio.create_task(s.run())
    try:
        await asyncio.sleep(0.05)
        assert agenda.fired == []  # asleep for an hour: nothing due yet
        clock.advance(timedelta(hours=1))
        s.poke()
        for _ in range(100):
            if agenda.fired:
                break
            await asyncio.sleep(0.01)
        assert agenda.fired == [T0 + timedelta(hours=1)]
    finally:
        task.cancel()


async def test_a_failing_sweep_is_retried_after_the_error_backoff() -> None:
    clock = ManualClock(T0)
    calls = 0

    async def sweep(now: datetime) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database went away")

    async def next_due() -> datetime | None:
        return T0 if calls < 2 else None  # due until a sweep succeeds

    s = DeadlineScheduler("test", next_due=next_due, sweep=sweep, clock=clock, max_sleep=3600, error_backoff=0.02)
    task = asyncio.create_task(s.run())
    try:
        for _ in range(100):
            if calls >= 2:
                break
            await asyncio.sleep(0.01)
        assert calls >= 2
    finally:
        task.cancel()


async def test_a_poke_with_nothing_due_reads_the_next_instant_and_does_not_sweep() -> None:
    clock = ManualClock(T0)
    agenda = Agenda(clock)
    sweeps: list[datetime] = []

    async def sweep(now: datetime) -> None:
        sweeps.append(now)
        await agenda.sweep(now)

    s = DeadlineScheduler("test", next_due=agenda.next_due, sweep=sweep, clock=clock)
    agenda.pending = [T0 + timedelta(minutes=5)]
    assert await s.run_once() == T0 + timedelta(minutes=5) and sweeps == []
    clock.advance(timedelta(minutes=5))  # positive control: now it is due
    assert await s.run_once() is None and sweeps == [T0 + timedelta(minutes=5)]
    assert agenda.fired == [T0 + timedelta(minutes=5)]
