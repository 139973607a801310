"""The dossier list at a province's scale: each documented filter, first page and a deep page.

Run ``python -m bench.lists [--dossiers 2000000] [--calls 200]``.

PostgreSQL (started by the benchmark, switched to durable settings like ``bench.reads``) holds
``--dossiers`` dossiers over 300 units in two levels (20 districts of 14 communes each, every unit
receiving), a year of receipts (2024) loaded by one ``INSERT … SELECT`` from ``generate_series``
per chunk, then analysed. The last month's dossiers are open (received, processing, awaiting a
supplement or a payment), some overdue, with their apology deadline; the others are finished. The
dossiers service runs in the benchmark's process (migrations, units replica, no schedulers) and
each call is ``GET /dossiers/v1/dossiers`` through its root app (ASGI, no socket), as an
administrator: routing, authentication, the query and the JSON, without a network hop.

For every filter the documentation lists (a district with its communes, one commune, a status,
a timeliness, a procedure, a channel, a week of receipts, a week of due dates, the apology due on
a day and by a day, and an officer's own combination: a district's dossiers in processing), the
first page and a deep page (the cursor of the match half way through, in MaHoSo order) are called
``--calls`` times each after 10 warm-up calls; p50 and p99 (nearest rank) in milliseconds.
Results go to ``bench/results/lists.json``; a markdown table is printed for docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import event, text

from bench.outbox_relay import PostgresBackend, environment, percentile
from bench.service_keys import UNLIMITED, admin_key, bearer
from services.catalog import definitions
from services.dossiers.models import directory
from services.dossiers.settings import DossiersSettings
from shared.app_factory import create_root_app
from shared.events import CloudEvent
from shared.paging import encode_cursor
from shared.runtime import Runtime

RESULTS = Path(__file__).parent / "results"
DISTRICTS = [f"000.{d:02d}.00.H42" for d in range(20)]
COMMUNES = {district: [f"000.{d:02d}.{c:02d}.H42" for c in range(1, 15)] for d, district in enumerate(DISTRICTS)}
UNITS = [unit for district in DISTRICTS for unit in (district, *COMMUNES[district])]
CHUNK = 200_000

# One row per i: unit i % 300, day (i / 300) % 365 of 2024, the n-th of that unit's day; the last
# 31 days are open. Columns the lists do not read keep their defaults.
FILL = """
INSERT INTO dossiers (ma_ho_so, origin, agency, unit_code, ma_tthc, procedure_name, channel, status,
    received_at, due_at, original_due_at, rule_set, timeliness, apology_due_at, supplement_count,
    documents, fees, supplements, result_papers, extra, status_history, pauses, due_history,
    state_at, state_rank, content_hash, version, created_at, updated_at)
SELECT unit || '-' || to_char(day, 'YYMMDD') || '-' || lpad(n::text, 4, '0'), 'sync', unit, unit,
    '1.00' || lpad(((i * 7) % 200)::text, 3, '0'), 'Thủ tục', 1 + (i / 7) % 3,
    CASE WHEN open THEN (ARRAY[2, 4, 4, 4, 5, 6])[1 + i % 6] WHEN i % 50 = 0 THEN 7 ELSE 10 END,
    day + interval '8 hours' + n * interval '1 minute', day + interval '10 days', day + interval '10 days',
    'nd61_2018',
    CASE WHEN open AND i % 10 = 0 THEN 'open_overdue' WHEN open THEN 'open_on_track'
         WHEN i % 20 = 1 THEN 'late' WHEN i % 5 = 2 THEN 'early' ELSE 'on_time' END,
    CASE WHEN open AND i % 10 <> 0 THEN day + interval '9 days' END, 0,
    '[]', '[]', '[]', '[]', '{}', '[]', '[]', '[]', day, 2, '', 1, now(), now()
FROM (
    SELECT i, (CAST(:units AS text[]))[1 + i % 300] AS unit,
        timestamptz '2024-01-01 00:00+07' + ((i / 300) % 365) * interval '1 day' AS day,
        i / (300 * 365) AS n, (i / 300) % 365 >= 334 AS open
    FROM generate_series(CAST(:low AS bigint), CAST(:high AS bigint) - 1) AS i
) AS g
"""


@dataclass(frozen=True)
class Case:
    params: Mapping[str, str]
    where: str  # the same filter in SQL, to find the deep page's cursor


def cases() -> dict[str, Case]:
    district = DISTRICTS[5]
    subtree = ", ".join(f"'{u}'" for u in (district, *COMMUNES[district]))
    return {
        "district with its 14 communes": Case({"unit": district}, f"unit_code IN ({subtree})"),
        "one commune": Case({"unit": COMMUNES[district][3]}, f"unit_code = '{COMMUNES[district][3]}'"),
        "status: awaiting a supplement": Case({"status": "5"}, "status = 5"),
        "status: returned": Case({"status": "10"}, "status = 10"),
        "timeliness: open overdue": Case({"timeliness": "open_overdue"}, "timeliness = 'open_overdue'"),
        "procedure": Case({"procedure": "1.00042"}, "ma_tthc = '1.00042'"),
        "channel: by post": Case({"channel": "3"}, "channel = 3"),
        "received in a week": Case(
            {"received_from": "2024-06-03", "received_to": "2024-06-09"},
            "received_at >= '2024-06-03 00:00+07' AND received_at < '2024-06-10 00:00+07'",
        ),
        "due in a week": Case(
            {"due_from": "2024-06-03", "due_to": "2024-06-09"},
            "due_at >= '2024-06-03 00:00+07' AND due_at < '2024-06-10 00:00+07'",
        ),
        "apology due on a day": Case(
            {"apology_due": "2025-01-05"},
            "apology_due_at >= '2025-01-05 00:00+07' AND apology_due_at < '2025-01-06 00:00+07'",
        ),
        "apology due by a day": Case({"apology_due_before": "2024-12-31"}, "apology_due_at < '2025-01-01 00:00+07'"),
        "district, processing": Case({"unit": district, "status": "4"}, f"unit_code IN ({subtree}) AND status = 4"),
    }


async def register_units(runtime: Runtime) -> None:
    """What ``unit.upserted`` events from plans do to the dossiers' units replica."""
    context = runtime["dossiers"]
    handle = directory.handlers()["vn.cchc.unit.upserted.v1"]
    async with context.uow() as uow:
        for unit in UNITS:
            parent = None if unit in COMMUNES else next(d for d in DISTRICTS if unit in COMMUNES[d])
            level = "district" if parent is None else "commune"
            data = {"code": unit, "name": unit, "aliases": [], "level": level, "parent_code": parent, "version": 1}
            event = CloudEvent(
                source="/cchc/plans", type="vn.cchc.unit.upserted.v1", time=context.clock.now(), subject=unit, data=data
            )
            await handle(uow, event)
        await uow.commit()


async def load(runtime: Runtime, dossiers: int) -> float:
    """``dossiers`` rows by SQL in chunks, then ``ANALYZE``; the seconds it took."""
    began = time.perf_counter()
    engine = runtime["dossiers"].db.engine
    for low in range(0, dossiers, CHUNK):
        async with engine.begin() as connection:
            await connection.execute(text(FILL), {"units": UNITS, "low": low, "high": min(dossiers, low + CHUNK)})
        print(f"loaded {min(dossiers, low + CHUNK):,} dossiers ({time.perf_counter() - began:.0f} s)", flush=True)
    async with engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("VACUUM ANALYZE dossiers"))
    return time.perf_counter() - began


async def deep_cursor(runtime: Runtime, where: str) -> str | None:
    """The cursor of the match half way through, in MaHoSo order."""
    async with runtime["dossiers"].db.engine.connect() as connection:
        key = await connection.scalar(
            text(
                f"SELECT ma_ho_so FROM dossiers WHERE {where} ORDER BY ma_ho_so "
                f"OFFSET (SELECT count(*) / 2 FROM dossiers WHERE {where}) LIMIT 1"
            )
        )
    return None if key is None else encode_cursor(key)


class Statements:
    """The last statement the list route ran on the reader engine, with its parameters."""

    def __init__(self, runtime: Runtime) -> None:
        self.last: tuple[str, Any] | None = None
        event.listen(runtime["dossiers"].db.reader.sync_engine, "before_cursor_execute", self._note)

    def _note(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM dossiers" in statement:
            self.last = (statement, parameters)


async def timed(
    client: httpx.AsyncClient, runtime: Runtime, seen: Statements, params: Mapping[str, str], calls: int
) -> dict[str, Any]:
    """p50/p99/max of ``calls`` calls (ms), then the server's own time for the statement the route
    ran (median ``Execution Time`` of 5 ``EXPLAIN ANALYZE``, steadier than a wall clock on a shared
    machine), the index entries and rows it read, and the indexes in its plan."""
    samples = []
    for n in range(10 + calls):
        began = time.perf_counter()
        response = await client.get("/dossiers/v1/dossiers", params=params)
        elapsed = (time.perf_counter() - began) * 1000
        if response.status_code != 200 or len(response.json()["items"]) != 50:
            raise RuntimeError(f"{params}: {response.status_code} {response.text[:300]}")
        if n >= 10:
            samples.append(elapsed)
    assert seen.last is not None
    statement, parameters = seen.last
    executions, plan = [], {}
    async with runtime["dossiers"].db.engine.connect() as connection:
        for _ in range(5):
            explained = await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters)
            found = explained.scalar_one()[0]
            executions.append(found["Execution Time"])
            plan = found["Plan"]
    nodes = list(walk(plan))
    return {
        "p50": percentile(samples, 50),
        "p99": percentile(samples, 99),
        "max": max(samples),
        "server_ms": statistics.median(executions),
        "read": sum(
            n["Actual Rows"] * n.get("Actual Loops", 1) + n.get("Rows Removed by Filter", 0)
            for n in nodes
            if n.get("Relation Name") == "dossiers"
        ),
        "indexes": sorted({n["Index Name"] for n in nodes if "Index Name" in n}),
    }


def walk(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from walk(child)


@asynccontextmanager
async def no_lifespan(_: Any) -> AsyncIterator[None]:
    yield  # the benchmark, not the app, starts and stops the runtime


async def main(args: argparse.Namespace) -> None:
    os.environ.update(UNLIMITED)
    backend = PostgresBackend()
    load_before = os.getloadavg()
    try:
        settings_shown = await backend.make_durable()
        url = await backend.fresh_url()
        key = await admin_key(url)
        with tempfile.TemporaryDirectory(prefix="cchc-bench-lists-") as workdir:
            settings = DossiersSettings(data_dir=Path(workdir), dossiers_database_url=SecretStr(url))
            runtime = Runtime(definitions(["dossiers"]), settings)
            await runtime.start(migrate=True, schedulers=False)
            try:
                await register_units(runtime)
                loaded = await load(runtime, args.dossiers)
                app = create_root_app(list(runtime.contexts.values()), no_lifespan)
                transport = httpx.ASGITransport(app=app)
                results: dict[str, dict[str, Any]] = {}
                seen = Statements(runtime)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://cchc.bench", headers=bearer(key), timeout=30
                ) as client:
                    for name, case in cases().items():
                        first = await timed(client, runtime, seen, case.params, args.calls)
                        cursor = await deep_cursor(runtime, case.where)
                        deep = await timed(client, runtime, seen, {**case.params, "cursor": cursor or ""}, args.calls)
                        results[name] = {"first": first, "deep": deep, "uptime": os.getloadavg()}
                        print(name, json.dumps(results[name]), flush=True)
            finally:
                await runtime.stop()
    finally:
        backend.close()
    summary = {
        "dossiers": args.dossiers,
        "units": len(UNITS),
        "load_seconds": round(loaded, 1),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "postgres": settings_shown,
        "environment": environment(),
        "args": vars(args),
        "results": results,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "lists.json").write_text(json.dumps(summary, indent=2))
    print(f"\n{args.dossiers:,} dossiers, {len(UNITS)} units, loaded in {loaded:.0f} s; load average {load_before}")
    print("| filter | first page p50 / p99 (server) | deep page p50 / p99 (server) | index |")
    print("|---|---:|---:|---|")
    for name, r in results.items():
        f, d = r["first"], r["deep"]
        print(
            f"| {name} | {f['p50']:.1f} / {f['p99']:.1f} ms ({f['server_ms']:.2f}) "
            f"| {d['p50']:.1f} / {d['p99']:.1f} ms ({d['server_ms']:.2f}) | {', '.join(f['indexes'])} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=2_000_000)
    parser.add_argument("--calls", type=int, default=200)
    asyncio.run(main(parser.parse_args()))
