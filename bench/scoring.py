"""Scoring on PostgreSQL (durable: fsync and synchronous_commit on, as production): applying
events through the real consumer path, and the indicator query against a SQL aggregate.

Run ``python -m bench.scoring [--dossiers 200000] [--provinces 10] [--communes 29] [--batch 500]
[--queries 200] [--scale 1]``, under uvloop as ``cchc serve scoring`` runs (``CCHC_EVENT_LOOP=asyncio``:
the standard loop).

* **apply**: ``--dossiers`` dossiers over ``--provinces`` × (1 + ``--communes``) units in two levels,
  each a ``dossier.received`` and (for 80 %) a ``dossier.resolved``, a tenth of the open ones a
  ``dossier.overdue``: CloudEvents serialised before the clock starts, handed to the scoring
  service's :class:`shared.consumer.EventConsumer` in batches of ``--batch`` as the Kafka bus hands
  them on (processed-events claim, handlers, counters, a commit per lane; the next batch submitted
  while the last is applied, ``IN_FLIGHT`` at most). Reports events/s.
* **query**: ``GET /scoring/v1/indicators`` as the service computes it (``service.indicators``),
  for a province and for a commune, a quarter and a year, ``--queries`` times each: p50/p99 in ms.
  **Baseline**: the same province-year figures (received, resolved, late) by one SQL aggregate
  over the raw per-dossier rows (``dossier_states``), p50/p99, and the ratio. With ``--scale N``
  the applied data is first replicated N times by SQL before the queries (each dossier state copied
  under N − 1 new keys, every counter multiplied by N: the figures of N × ``--dossiers`` dossiers
  with the same row count in the roll-ups, N times the rows for the raw aggregate), to query a
  2,000,000-dossier model without applying 3.6 million events on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import uvloop
from pydantic import SecretStr
from sqlalchemy import text

from bench.outbox_relay import PostgresBackend
from services.catalog import definitions
from services.scoring import service
from services.scoring.models import COUNTERS_TABLE, PROCEDURE_MONTHS, UNIT_MONTHS, DossierState
from services.scoring.settings import ScoringSettings
from shared.bus.base import Message
from shared.clock import VN_TZ, ManualClock
from shared.events import CloudEvent
from shared.runtime import Runtime, freeze_startup_heap
from tests.support.pipelined import submit_in_turn

RESULTS = Path(__file__).parent / "results"
START = datetime(2024, 1, 1, tzinfo=VN_TZ)
NOW = datetime(2025, 1, 15, 9, tzinfo=VN_TZ)
PROCEDURES = [f"1.00{n}" for n in range(40)]


def units(provinces: int, communes: int) -> list[tuple[str, str | None, str]]:
    found = []
    for p in range(provinces):
        province = f"P{p:02d}"
        found.append((province, None, "province"))
        found += [(f"{province}-C{c:03d}", province, "commune") for c in range(communes)]
    return found


def message(type_: str, subject: str, data: dict[str, Any], at: datetime, topic: str = "cchc.dossiers") -> Message:
    event = CloudEvent(source="/cchc/bench", type=f"vn.cchc.{type_}.v1", time=at, subject=subject, data=data)
    return Message(topic=topic, key=subject, value=event.to_json().encode())


def workload(dossiers: int, communes: list[str], seed: int = 1) -> list[Message]:
    rng = random.Random(seed)
    out = []
    for n in range(dossiers):
        key, unit = f"000.00.00.H00-24-{n:07d}", rng.choice(communes)
        procedure = {"code": rng.choice(PROCEDURES), "name": None, "field_code": None, "field_name": None}
        received = START + timedelta(minutes=rng.randrange(60 * 24 * 365))
        due = received + timedelta(days=rng.randint(1, 20))
        channel = rng.choice([1, 2, 3])
        base = {
            "ma_ho_so": key,
            "unit": unit,
            "procedure": procedure,
            "channel": channel,
            "received_at": received.isoformat(),
        }
        out.append(
            message(
                "dossier.received",
                key,
                {**base, "due_at": due.isoformat(), "rule_set": "nd61", "origin": "sync"},
                received,
            )
        )
        if rng.random() < 0.8:
            finished = received + timedelta(days=rng.randint(0, 25))
            out.append(
                message(
                    "dossier.resolved",
                    key,
                    {
                        **base,
                        "status": 10,
                        "finished_at": finished.isoformat(),
                        "due_at": due.isoformat(),
                        "timeliness": "x",
                        "on_time": True,
                        "supplement_count": rng.choice([0, 0, 1, 2]),
                        "paid_online": rng.choice([None, 1]),
                        "has_fees": rng.random() < 0.5,
                        "digitised": 1,
                        "documents_digitised": 1,
                        "documents_reused": rng.choice([0, 1]),
                        "rule_set": "nd61",
                    },
                    finished,
                )
            )
        elif rng.random() < 0.1:
            out.append(
                message(
                    "dossier.overdue",
                    key,
                    {**base, "applicant": {}, "due_at": due.isoformat(), "rule_set": "nd61"},
                    due,
                )
            )
    return out


async def replicate(session: Any, times: int) -> None:
    """Turn the applied model into ``times`` copies of itself (see the module docstring)."""
    states = DossierState.__table__
    names = [c.name for c in states.columns if c.name != "ma_ho_so"]
    copy = ", ".join(names)
    await session.execute(
        text(
            f"INSERT INTO dossier_states (ma_ho_so, {copy}) SELECT ma_ho_so || '-r' || n, {copy} "
            "FROM dossier_states, generate_series(1, :copies) AS n"
        ),
        {"copies": times - 1},
    )
    for table in (COUNTERS_TABLE, UNIT_MONTHS, PROCEDURE_MONTHS):
        amounts = ", ".join(f"{c.name} = {c.name} * :times" for c in table.columns if not c.primary_key)
        await session.execute(text(f"UPDATE {table.name} SET {amounts}"), {"times": times})
    for table in ("dossier_states", *(t.name for t in (COUNTERS_TABLE, UNIT_MONTHS, PROCEDURE_MONTHS))):
        await session.execute(text(f"ANALYZE {table}"))
    await session.commit()


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 3),
    }


RAW_SQL = text(
    """SELECT count(*) FILTER (WHERE received_at >= :start AND received_at < :end),
              count(*) FILTER (WHERE finished_at >= :start AND finished_at < :end),
              count(*) FILTER (WHERE finished_at >= :start AND finished_at < :end AND (finished_at > due_at OR supplements > 1))
       FROM dossier_states WHERE unit = ANY(:units)"""
)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dossiers", type=int, default=200_000)
    parser.add_argument("--provinces", type=int, default=10)
    parser.add_argument("--communes", type=int, default=29)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--scale", type=int, default=1, help="replicate the applied data N times before querying")
    args = parser.parse_args()

    pg = PostgresBackend()
    try:
        server = await pg.make_durable()
        url = await pg.fresh_url()
        runtime = Runtime(
            definitions(["scoring"]), ScoringSettings(scoring_database_url=SecretStr(url)), clock=ManualClock(NOW)
        )
        await runtime.migrate()
        context = runtime["scoring"]
        consumer = context.consumer()
        assert consumer is not None
        tree = units(args.provinces, args.communes)
        await consumer(
            [
                message(
                    "unit.upserted",
                    code,
                    {"code": code, "name": code, "aliases": [], "level": level, "parent_code": parent, "version": 1},
                    START,
                    "cchc.plans",
                )
                for code, parent, level in tree
            ]
        )
        events = workload(args.dossiers, [code for code, _, level in tree if level == "commune"])
        freeze_startup_heap()  # as a service process does once started (shared.runtime)
        started, cpu_started = time.perf_counter(), time.process_time()
        await submit_in_turn(consumer, (events[p : p + args.batch] for p in range(0, len(events), args.batch)))
        applied, cpu = time.perf_counter() - started, time.process_time() - cpu_started

        queries: dict[str, Any] = {}
        if args.scale > 1:
            async with context.uow() as uow:
                await replicate(uow.session, args.scale)
        async with context.uow() as uow:
            for unit, period in (("P00", "2024"), ("P00", "2024-Q2"), ("P00-C000", "2024"), ("P00-C000", "2024-03")):
                samples = []
                for _ in range(args.queries):
                    began = time.perf_counter()
                    await service.indicators(uow.session, unit, period, [], NOW)
                    samples.append(time.perf_counter() - began)
                queries[f"{unit} {period}"] = percentiles(samples)
            members = [code for code, parent, _ in tree if code == "P00" or parent == "P00"]
            raw = []
            for _ in range(args.queries):
                began = time.perf_counter()
                await uow.session.execute(RAW_SQL, {"start": START, "end": START.replace(year=2025), "units": members})
                raw.append(time.perf_counter() - began)
        baseline = percentiles(raw)
        result = {
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
            "event_loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
            "postgres": server,
            "dossiers": args.dossiers,
            "dossiers_queried": args.dossiers * args.scale,
            "units": len(tree),
            "events": len(events),
            "batch": args.batch,
            "apply_events_per_s": round(len(events) / applied),
            "apply_cpu_us_per_event": round(cpu / len(events) * 1e6, 1),  # this process: consumer and bench
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "indicator_query": queries,
            "raw_sql_province_year": baseline,
            "ratio_province_year_p99": round(queries["P00 2024"]["p99_ms"] / baseline["p99_ms"], 3),
        }
        await runtime.stop()
        print(json.dumps(result, indent=2))
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "scoring-postgres.json").write_text(json.dumps(result, indent=2) + "\n")
    finally:
        pg.close()


if __name__ == "__main__":
    # `cchc serve scoring` runs its consumer under uvloop (services/cli.py); CCHC_EVENT_LOOP=asyncio
    # measures the standard loop instead.
    standard = os.environ.get("CCHC_EVENT_LOOP") == "asyncio"
    with asyncio.Runner(loop_factory=None if standard else uvloop.new_event_loop) as runner:
        runner.run(main())
