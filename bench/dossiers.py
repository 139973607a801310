"""Dossiers on PostgreSQL: push ingest end to end, a province-year load, and overdue latency at 1M open.

Run ``python -m bench.dossiers [--records 100000] [--batch 1000] [--runs 5] [--year 200000]
[--open 1000000] [--due 1000] [--replicas 2] [--senders 2]``.

* **push**: ``--replicas`` processes of ``cchc serve dossiers`` (uvicorn, PostgreSQL) share one
  database, as replicas behind a load balancer would; the benchmark POSTs pre-serialised
  DongBoHoSoMC batches of ``--batch`` realistic records from the provincial simulator's workload
  to ``/dossiers/v1/sync/dvcqg``, ``--senders`` batches in flight per replica, on a fresh
  database per run, after one untimed warm-up batch per replica (records of another year: the
  steady state of a long-running replica, connections open and caches full). Time covers
  HTTP, validation, upsert, outbox and the relay publishing it all. **Baseline**: the
  same rows (the dossier rows the service stored, all columns) written by a bare
  ``executemany`` into a copy of the table on the same server.
* **year**: ``--year`` records, serialised before the clock starts (the provincial system does
  not run on these CPUs), pushed the same way after the same warm-up; reports records/s
  and the peak resident memory (VmHWM) of the largest replica and of all replicas together.
* **overdue**: ``--open`` open dossiers (bulk-loaded by SQL), ``--due`` of which share one due
  instant; the late-detection scheduler of a real runtime, asleep, must publish their
  ``dossier.overdue`` events. Time runs from the due instant to the last event handed to the
  in-process bus.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import MetaData, insert, select, text

from bench.outbox_relay import PostgresBackend
from bench.service_keys import UNLIMITED, admin_key, bearer
from services.catalog import definitions
from services.dossiers.models import Dossier
from services.dossiers.settings import DossiersSettings
from shared.bus.base import Message
from shared.bus.inprocess import InProcessBus
from shared.calendar import WorkingCalendar
from shared.clock import VN_TZ, ManualClock
from shared.db import Database
from shared.runtime import Runtime
from simulator.workload import ProvincialWorkload

RESULTS = Path(__file__).parent / "results"
START = datetime(2024, 1, 2, 7, tzinfo=VN_TZ)
WARM_UP_START = datetime(2023, 1, 3, 7, tzinfo=VN_TZ)


def batches(records: list[dict[str, Any]], size: int) -> list[bytes]:
    return [
        json.dumps(
            {"service": "DongBoHoSoMC", "isUpdating": False, "data": records[i : i + size]}, ensure_ascii=False
        ).encode()
        for i in range(0, len(records), size)
    ]


class Service:
    """``cchc serve dossiers [--migrate]`` on a free port, as its own process."""

    def __init__(self, url: str, port: int, *, migrate: bool = True) -> None:
        env = {
            **os.environ,
            **UNLIMITED,
            "CCHC_DOSSIERS_DATABASE_URL": url,
            "CCHC_LOG_LEVEL": "WARNING",
            "CCHC_DATA_DIR": "/tmp/cchc-bench",
        }
        cchc = Path(sys.executable).parent / "cchc"
        command = [str(cchc), "serve", "dossiers", "--port", str(port)] + (["--migrate"] if migrate else [])
        self.process = subprocess.Popen(command, env=env)
        self.base = f"http://127.0.0.1:{port}"

    async def ready(self) -> None:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                try:
                    if (await client.get(f"{self.base}/dossiers/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("the service did not become ready")

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


async def post_all(bases: list[str], bodies: list[bytes] | Any, headers: dict[str, str], senders: int = 1) -> None:
    """POST every body, ``senders`` requests in flight per service replica (one shared queue)."""
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=4)

    async def sender(client: httpx.AsyncClient, base: str) -> None:
        while (body := await queue.get()) is not None:
            response = await client.post(
                f"{base}/dossiers/v1/sync/dvcqg", content=body, headers={"content-type": "application/json", **headers}
            )
            response.raise_for_status()

    async with httpx.AsyncClient(timeout=120) as client:
        tasks = [asyncio.create_task(sender(client, base)) for base in bases for _ in range(senders)]
        for body in bodies:
            await queue.put(body)
        for _ in tasks:
            await queue.put(None)
        await asyncio.gather(*tasks)


class Replicas:
    """``count`` service processes on one database (ports ``port``, ``port + 1``, …); the first migrates."""

    def __init__(self, url: str, port: int, count: int) -> None:
        self.url, self.port, self.count = url, port, count
        self.services: list[Service] = []
        self.headers: dict[str, str] = {}

    async def __aenter__(self) -> Replicas:
        self.headers = bearer(await admin_key(self.url))  # written before the replicas load their key rings
        try:
            for i in range(self.count):
                self.services.append(Service(self.url, self.port + i, migrate=i == 0))
                await self.services[-1].ready()
        except BaseException:
            self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop()

    @property
    def bases(self) -> list[str]:
        return [s.base for s in self.services]

    def peak_rss_mb(self) -> list[float]:
        """The peak resident memory (VmHWM) of each replica."""
        return [s.peak_rss_mb() for s in self.services]

    def stop(self) -> None:
        for service in self.services:
            service.stop()


async def warm_up(service: Replicas, batch: int) -> None:
    """One untimed batch per replica, from another year (so no key of the timed records): what a
    long-running replica has done before, opening its connections and filling its caches."""
    records = list(ProvincialWorkload(2, WorkingCalendar()).dossiers(batch * len(service.bases), WARM_UP_START))
    async with httpx.AsyncClient(timeout=120) as client:
        for base, body in zip(service.bases, batches(records, batch), strict=True):
            response = await client.post(
                f"{base}/dossiers/v1/sync/dvcqg",
                content=body,
                headers={"content-type": "application/json", **service.headers},
            )
            response.raise_for_status()


async def push_run(pg: PostgresBackend, bodies: list[bytes], port: int, replicas: int, senders: int) -> float:
    async with Replicas(await pg.fresh_url(), port, replicas) as service:
        await warm_up(service, len(orjson.loads(bodies[0])["data"]))
        started = time.perf_counter()
        await post_all(service.bases, bodies, service.headers, senders)
        return time.perf_counter() - started


async def baseline_run(pg: PostgresBackend, rows: list[dict[str, Any]], batch: int) -> float:
    db = Database(await pg.fresh_url())
    table = Dossier.__table__.to_metadata(MetaData(), name="dossiers_copy")
    async with db.engine.begin() as conn:
        await conn.run_sync(table.metadata.create_all)
    try:
        started = time.perf_counter()
        for i in range(0, len(rows), batch):
            async with db.session() as session, session.begin():
                await session.execute(insert(table), rows[i : i + batch])
        return time.perf_counter() - started
    finally:
        await db.dispose()


async def stored_rows(pg: PostgresBackend, bodies: list[bytes], port: int) -> list[dict[str, Any]]:
    url = await pg.fresh_url()
    async with Replicas(url, port, 1) as service:
        await post_all(service.bases, bodies, service.headers)
    db = Database(url)
    try:
        async with db.session() as session:
            return [dict(m) for m in (await session.execute(select(Dossier.__table__))).mappings()]
    finally:
        await db.dispose()


async def year_run(
    pg: PostgresBackend, count: int, batch: int, port: int, replicas: int, senders: int
) -> dict[str, float]:
    # Serialised before the clock starts: the provincial system runs elsewhere, not on these CPUs.
    bodies = batches(list(ProvincialWorkload(7, WorkingCalendar()).dossiers(count, START)), batch)
    async with Replicas(await pg.fresh_url(), port, replicas) as service:
        await warm_up(service, batch)
        started = time.perf_counter()
        await post_all(service.bases, bodies, service.headers, senders)
        elapsed = time.perf_counter() - started
        peaks = service.peak_rss_mb()
        return {
            "records": count, "seconds": elapsed, "records_per_s": count / elapsed,
            "peak_rss_mb_per_replica": max(peaks), "peak_rss_mb_all_replicas": sum(peaks),
        }  # fmt: skip


class Stopwatch:
    def __init__(self, expected: int) -> None:
        self.expected, self.seen, self.last = expected, 0, 0.0
        self.done = asyncio.Event()

    async def __call__(self, messages: list[Message]) -> None:
        self.seen += sum(1 for m in messages if b"dossier.overdue.v1" in m.value)
        if self.seen >= self.expected:
            self.last = time.perf_counter()
            self.done.set()


async def overdue_run(pg: PostgresBackend, open_count: int, due_count: int) -> dict[str, float]:
    url = await pg.fresh_url()
    due = datetime(2024, 6, 3, 17, tzinfo=VN_TZ)
    clock = ManualClock(due - timedelta(seconds=2))
    bus = InProcessBus()
    settings = DossiersSettings(
        dossiers_database_url=url, data_dir=Path("/tmp/cchc-bench"), dossiers_late_max_sleep=600
    )
    runtime = Runtime(definitions(["dossiers"]), settings, clock=clock, bus=bus)
    await runtime.migrate()
    async with runtime["dossiers"].db.engine.begin() as conn:
        loaded = time.perf_counter()
        await conn.execute(
            text(FILL), {"n": open_count, "due_n": due_count, "due": due, "later": due + timedelta(days=30)}
        )
        await conn.execute(text("ANALYZE dossiers"))
        fill_seconds = time.perf_counter() - loaded
    stopwatch = Stopwatch(due_count)
    bus.subscribe("bench", ["cchc.dossiers"], stopwatch)
    await runtime.start()
    try:
        await asyncio.sleep(3)  # the scheduler reads the next due instant and goes to sleep
        clock.set(due)
        started = time.perf_counter()
        runtime["dossiers"].state["late_detection"].poke()  # stands in for the real clock reaching `due`
        await asyncio.wait_for(stopwatch.done.wait(), timeout=120)
        return {
            "open": open_count,
            "due": due_count,
            "seconds_to_last_event": stopwatch.last - started,
            "fill_seconds": fill_seconds,
        }
    finally:
        await runtime.stop()


# Open dossiers, all with an alarm; `due_n` of them ring at `due` (overdue), the rest a month later.
FILL = """
INSERT INTO dossiers (ma_ho_so, origin, agency, unit_code, ma_tthc, procedure_name, channel, status,
    applicant_name, received_at, due_at, original_due_at, rule_set, timeliness, supplement_count,
    documents, fees, supplements, result_papers, extra, status_history, pauses, due_history,
    state_at, state_rank, content_hash, alarm_at, alarm_kind, version, created_at, updated_at)
SELECT '000.00.12.H42-240603-' || lpad(g::text, 7, '0'), 'sync', '000.00.12.H42', '000.00.12.H42', '1.001612',
    'Đăng ký khai sinh', 2, 4, 'Nguyễn Văn A', CAST(:due AS timestamptz) - interval '3 days',
    CASE WHEN g <= :due_n THEN CAST(:due AS timestamptz) ELSE CAST(:later AS timestamptz) END,
    CASE WHEN g <= :due_n THEN CAST(:due AS timestamptz) ELSE CAST(:later AS timestamptz) END,
    'nd61_2018', 'open_due_soon', 0, '[]', '[]', '[]', '[]', '{}', '[]', '[]', '[]',
    CAST(:due AS timestamptz) - interval '3 days', 2, '',
    CASE WHEN g <= :due_n THEN CAST(:due AS timestamptz) ELSE CAST(:later AS timestamptz) END,
    'overdue', 1, now(), now()
FROM generate_series(1, :n) AS g
"""


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--year", type=int, default=200_000, help="records of the province-year load (0: skip)")
    parser.add_argument("--open", type=int, default=1_000_000, help="open dossiers for the overdue test (0: skip)")
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--replicas", type=int, default=2, help="service processes sharing the database")
    parser.add_argument("--senders", type=int, default=2, help="requests in flight per replica")
    args = parser.parse_args()

    pg = PostgresBackend()
    try:
        workload = ProvincialWorkload(1, WorkingCalendar())
        records = list(workload.dossiers(args.records, START))
        bodies = batches(records, args.batch)
        rows = await stored_rows(pg, bodies, args.port)
        push = [
            args.records / await push_run(pg, bodies, args.port, args.replicas, args.senders) for _ in range(args.runs)
        ]
        base = [len(rows) / await baseline_run(pg, rows, args.batch) for _ in range(args.runs)]
        result: dict[str, Any] = {
            "machine": f"{platform.machine()}, {os.cpu_count()} vCPU, Python {platform.python_version()}",
            "postgres": await pg.version(),
            "push": {
                "records": args.records,
                "batch": args.batch,
                "replicas": args.replicas,
                "senders": args.senders,
                "runs": push,
                "median_records_per_s": statistics.median(push),
            },
            "baseline_executemany": {"runs": base, "median_rows_per_s": statistics.median(base)},
        }
        result["ratio"] = result["push"]["median_records_per_s"] / result["baseline_executemany"]["median_rows_per_s"]
        if args.year:
            result["year"] = await year_run(pg, args.year, args.batch, args.port, args.replicas, args.senders)
        if args.open:
            result["overdue"] = await overdue_run(pg, args.open, args.due)
    finally:
        pg.close()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dossiers-postgres.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
