"""Thousands of events, duplicated and in random order, over units on two levels: the live read
model equals an independent recount from the raw records, and ``verify`` catches a tampered row."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from services.scoring import ledger, recount, rules, service
from services.scoring.figures import Sums, figures
from services.scoring.models import COUNTERS_TABLE
from services.scoring.periods import Period, parse_period
from services.scoring.rules import DossierState, Verdict, judge
from shared.bus.base import Message
from tests.integration.services.scoring.stream import NOW, history, shuffled_with_duplicates

PERIODS = [f"2024-{m:02d}" for m in range(1, 13)] + ["2024-Q1", "2024-Q2", "2024-Q3", "2024-H1", "2024-H2", "2024"]
TREE = {"P1": ["C1", "C2", "X"], "P2": ["C3"], "C1": [], "C2": [], "C3": [], "X": []}


def direct_recount(states: list[DossierState], period: Period) -> Sums:
    """Dossier by dossier with the rule itself, no monthly flows."""
    s = Sums()
    fees: dict[str, list[int]] = {}
    for d in states:
        assert d.received_at is not None
        verdict = judge(d, period)
        finished_here = d.finished_at is not None and period.start <= d.finished_at < period.end
        if period.start <= d.received_at < period.end:
            s.received += 1
            s.received_online += d.channel == rules.ONLINE_CHANNEL
        if verdict is not None:
            s.carried_in += not (period.start <= d.received_at < period.end)
            if verdict is Verdict.late:
                s.open_late += not finished_here
                s.fin_late += finished_here
                s.apology_late += d.apologised
        if finished_here:
            s.resolved += 1
            s.fin_early += verdict is Verdict.early
            s.fin_fees += d.has_fees
            s.fin_paid_online += d.has_fees and d.paid_online
            s.fin_digitised += d.digitised
            s.fin_reused += d.reused
            if d.has_fees:
                fees.setdefault(d.procedure, [0, 0])[0] += 1
                fees[d.procedure][1] += d.paid_online
    s.procedures_with_fees = len(fees)
    s.procedures_paid_online = sum(1 for _, paid in fees.values() if paid)
    return s


def small_batches(rng: random.Random, stream: list[Message]) -> Iterator[list[Message]]:
    """Batches of 1 to 60 events, topics mixed."""
    position = 0
    while position < len(stream):
        size = rng.randint(1, 60)
        yield stream[position : position + size]
        position += size


def large_batches_per_topic(rng: random.Random, stream: list[Message]) -> Iterator[list[Message]]:
    """As Kafka delivers: each topic's events in their order, in batches of 400 to 1,500 (large
    enough for a consumer's lanes), the topics interleaved at random."""
    queues = {topic: [m for m in stream if m.topic == topic] for topic in dict.fromkeys(m.topic for m in stream)}
    while topics := [topic for topic, queue in queues.items() if queue]:
        topic, size = rng.choice(topics), rng.randint(400, 1500)
        yield queues[topic][:size]
        queues[topic] = queues[topic][size:]


@pytest.mark.parametrize(
    "batches, in_turn", [(small_batches, False), (large_batches_per_topic, False), (large_batches_per_topic, True)]
)
async def test_a_shuffled_duplicated_stream_counts_exactly_like_a_recount(
    start_scoring: Callable[..., Any],
    batches: Callable[[random.Random, list[Message]], Iterator[list[Message]]],
    in_turn: bool,
) -> None:
    scoring = await start_scoring(NOW)
    rng = random.Random(7)
    made = history(seed=7, dossiers=700)
    stream = shuffled_with_duplicates(rng, made.messages)
    assert len(stream) > 3000
    started = time.perf_counter()
    if in_turn:  # the next batch handed on while the last is applied, as the Kafka bus does
        await scoring.deliver_in_turn(batches(rng, stream))
    else:
        for batch in batches(rng, stream):
            await scoring.deliver(batch)
    print(f"{len(stream)} events applied in {time.perf_counter() - started:.1f}s")

    expected: Counter = Counter()
    for truth in made.truth:
        expected.update(rules.contribution(truth))
    async with scoring.context.uow() as uow:
        assert recount.differences(await recount.live_counters(uow), expected) == []
        assert await recount.rollup_differences(uow) == []  # the roll-ups the queries read are the counters' sums
        stored = {
            row["ma_ho_so"]: ledger.state_of(dict(row))
            for row in (await uow.session.execute(select(ledger.DOSSIERS))).mappings()
        }
        for unit, children in TREE.items():
            members = {unit, *children}
            assert sorted(await service.scope(uow.session, unit)) == sorted(members)
            for text in PERIODS:
                period = parse_period(text)
                live = await service.unit_figures(uow.session, unit, period)
                truth = figures(direct_recount([t for t in made.truth if t.unit in members], period))
                assert live == truth, (unit, text)
        year = await service.unit_figures(uow.session, "P1", parse_period("2024"))
        # positive controls: the stream has late, early, open-overdue and apologised dossiers
        for code in (
            "dossiers.late",
            "dossiers.early_rate",
            "dossiers.open_overdue",
            "apology.coverage",
            "payments.online_rate",
        ):
            assert year[code].numerator, code
        assert len(stored) == len(made.truth)

        # a tampered counter row is a difference naming its unit, month and counter
        C = COUNTERS_TABLE.c
        row = (
            await uow.session.execute(
                select(C.procedure, C.channel).where(C.unit == "C2", C.month == 2024 * 12 + 2).limit(1)
            )
        ).one()
        where = (C.unit == "C2", C.month == 2024 * 12 + 2, C.procedure == row.procedure, C.channel == row.channel)
        await uow.session.execute(update(COUNTERS_TABLE).where(*where).values(received=C.received + 1))
        found = recount.differences(await recount.live_counters(uow), expected)
        assert [(d.unit, d.period, d.code, d.live - d.recount) for d in found] == [("C2", "2024-03", "received", 1)]
        rollup = await recount.rollup_differences(uow)
        assert [(d.unit, d.period, d.code, d.live - d.recount) for d in rollup] == [
            ("C2", "2024-03", "received (unit_months)", -1)
        ]
