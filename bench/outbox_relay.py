"""Outbox relay + in-process bus: events/s from commit to handler, and idle latency.

Run ``python -m bench.outbox_relay [--backend sqlite|postgres|both] [--events 50000]
[--batch 1000] [--runs 5] [--latency-samples 200]``.

For each backend it measures, on a fresh database per run, with the probe service of the
tests (its kernel tables, its ``Noted`` event) and the real :class:`~shared.runtime.Runtime`:

* **throughput**: a producer commits ``--events`` events in units of work of ``--batch``
  events (``uow.emit`` per event, then ``uow.commit``) as fast as it can, while the relay
  publishes them to an :class:`~shared.bus.inprocess.InProcessBus` whose only subscriber
  counts them. Time runs from the first unit of work to the moment the subscriber has
  counted every event (the timer is read inside the subscriber).
* **baseline**: the same events, one row each (event id, topic, key, type, envelope, time),
  inserted into a plain table of one row per event (the outbox's shape before it packed a
  unit of work into one row: same keys and indexes) on the same database, through the same
  SQLAlchemy async engine, ``--batch`` rows per transaction with
  ``session.execute(insert(table), rows)`` (executemany / insertmanyvalues). This is the
  physical limit of writing each event as a row; the relay also has to read, publish and
  delete them.
* **idle latency**: relays with the default idle interval (1 s); one event per commit, the
  next one ~20 ms after the subscriber got the previous one; latency is from the start of
  ``uow.commit()`` to the subscriber receiving the event.

PostgreSQL runs on a throwaway server started here with the machinery of
``tests/plugins/postgres_server.py`` (fsync and synchronous_commit off, like the tests).
Results go to stdout and to ``bench/results/outbox_relay-<backend>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Column, Index, MetaData, String, Table, Text, func, insert, select, text

from shared.bus.base import Message
from shared.bus.inprocess import InProcessBus
from shared.clock import SystemClock
from shared.db import BigIntPK, Database, UTCDateTime
from shared.events import CloudEvent
from shared.runtime import Runtime
from shared.service import ServiceContext
from shared.settings import Settings
from tests.plugins.postgres_server import HOST, SUPERUSER, PostgresServer, _start_server
from tests.support import probe

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PROBE = probe.definition(consumes=False)
TOPIC = PROBE.topic  # "cchc.probe"
LATENCY_WARMUP = 10
LATENCY_GAP_S = 0.02
LATENCY_TIMEOUT_S = 10.0

log = logging.getLogger("bench.outbox_relay")


class BenchSettings(Settings):
    """Settings that also know the probe service's database (as the tests' TestSettings)."""

    probe_database_url: SecretStr | None = None


# A plain table of one row per event: the outbox's shape before units of work were packed into
# one row (kernel revision v1: same columns, keys and indexes); nothing reads it.
_baseline_metadata = MetaData()
baseline_table = Table(
    "outbox_baseline",
    _baseline_metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("topic", String(120), nullable=False),
    Column("key", String(200), nullable=False),
    Column("type", String(200), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("published_at", UTCDateTime, nullable=True),
)
Index(
    "ix_outbox_baseline_unpublished",
    baseline_table.c.id,
    postgresql_where=baseline_table.c.published_at.is_(None),
    sqlite_where=baseline_table.c.published_at.is_(None),
)


# --------------------------------------------------------------------------- databases


class Backend(ABC):
    """Hands out fresh, empty databases of one kind."""

    name: str
    setting_queries: dict[str, str] = {}  # setting name -> query returning its value

    @abstractmethod
    async def fresh_url(self) -> str: ...

    @abstractmethod
    async def version(self) -> str: ...

    async def settings(self, url: str) -> dict[str, str]:
        """The durability knobs in force, read back from a database of this backend."""
        db = Database(url)
        try:
            async with db.engine.connect() as conn:
                return {name: str(await conn.scalar(text(query))) for name, query in self.setting_queries.items()}
        finally:
            await db.dispose()

    def close(self) -> None:
        return None


class SqliteBackend(Backend):
    name = "sqlite"
    setting_queries = {"journal_mode": "pragma journal_mode", "synchronous": "pragma synchronous"}

    def __init__(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="cchc-bench-sqlite-"))
        self._count = 0

    async def fresh_url(self) -> str:
        self._count += 1
        directory = self._root / f"db{self._count}"
        directory.mkdir()
        return f"sqlite+aiosqlite:///{directory / 'probe.db'}"

    async def version(self) -> str:
        return sqlite3.sqlite_version

    def close(self) -> None:
        shutil.rmtree(self._root, ignore_errors=True)


class PostgresBackend(Backend):
    name = "postgres"
    setting_queries = {
        name: f"show {name}"
        for name in ("fsync", "synchronous_commit", "full_page_writes", "shared_buffers", "work_mem")
    }

    def __init__(self) -> None:
        self._process = _start_server()
        self.server = PostgresServer(host=HOST, port=self._process.port, user=SUPERUSER)

    async def fresh_url(self) -> str:
        return await self.server.create_database(f"bench_{uuid.uuid4().hex[:12]}")

    async def version(self) -> str:
        db = Database(self.server.url("postgres"))
        try:
            async with db.engine.connect() as conn:
                return str(await conn.scalar(text("show server_version")))
        finally:
            await db.dispose()

    async def make_durable(self) -> dict[str, str]:
        """Switch the server to production's durability (the test server runs with fsync,
        synchronous_commit and full_page_writes off) and return the settings as the server shows them."""
        db = Database(self.server.url("postgres"))
        try:
            async with db.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                for name in ("fsync", "synchronous_commit", "full_page_writes"):
                    await conn.execute(text(f"ALTER SYSTEM SET {name} = on"))
                await conn.execute(text("SELECT pg_reload_conf()"))
            names = ("fsync", "synchronous_commit", "full_page_writes", "server_version")
            for _ in range(100):  # the postmaster applies the reload a moment later (on a loaded machine, later)
                async with db.engine.connect() as conn:
                    shown = {name: str(await conn.scalar(text(f"show {name}"))) for name in names}
                if all(shown[name] == "on" for name in names[:3]):
                    break
                await asyncio.sleep(0.1)
            return shown
        finally:
            await db.dispose()

    def close(self) -> None:
        self._process.stop()


def make_runtime(url: str, bus: InProcessBus, workdir: Path) -> Runtime:
    settings = BenchSettings(
        data_dir=workdir,
        probe_database_url=SecretStr(url),
        bus="inprocess",
        relay_idle_interval=1.0,  # the default: a poll-based relay would show ~500 ms
    )
    return Runtime([PROBE], settings, bus=bus)


# --------------------------------------------------------------------------- measurements


class Counter:
    """The subscriber of the throughput run: counts events, notes when all have arrived."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.count = 0
        self.done_at: float | None = None
        self.done = asyncio.Event()

    async def __call__(self, messages: Sequence[Message]) -> None:
        self.count += len(messages)
        if self.count >= self.target and self.done_at is None:
            self.done_at = time.perf_counter()
            self.done.set()


class Arrivals:
    """The subscriber of the latency run: resolves the future waiting for each event's key."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[float]] = {}

    async def __call__(self, messages: Sequence[Message]) -> None:
        now = time.perf_counter()
        for message in messages:
            future = self.waiting.pop(message.key, None)
            if future is not None and not future.done():
                future.set_result(now)


def domain_events(n: int, tag: str) -> list[probe.Noted]:
    """The application's events (built before the clock starts: they are the domain's work)."""
    return [probe.Noted(key=f"{tag}-{i % 100}", note=f"note {i}") for i in range(n)]


def outbox_rows(n: int) -> list[dict[str, Any]]:
    """The baseline's rows: one per event of ``domain_events``, its envelope as the outbox holds it."""
    clock = SystemClock()
    rows = []
    for event in domain_events(n, "base"):
        envelope = CloudEvent(
            source=PROBE.source, type=event.type, time=clock.now(), subject=event.subject(), data=event.payload()
        )
        rows.append(
            {
                "event_id": envelope.id,
                "topic": TOPIC,
                "key": envelope.subject,
                "type": envelope.type,
                "payload": envelope.to_json(),
                "created_at": clock.now(),
            }
        )
    return rows


async def bench_baseline(db: Database, rows: list[dict[str, Any]], batch: int) -> float:
    """Bare batched insert of ``rows``; returns rows/s."""
    async with db.engine.begin() as conn:
        await conn.run_sync(_baseline_metadata.create_all)
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        async with db.session() as session:
            await session.execute(insert(baseline_table), rows[start : start + batch])
            await session.commit()
    elapsed = time.perf_counter() - started
    async with db.session() as session:
        stored = int(await session.scalar(select(func.count()).select_from(baseline_table)) or 0)
    if stored != len(rows):
        raise RuntimeError(f"baseline stored {stored} rows, expected {len(rows)}")
    return len(rows) / elapsed


async def bench_relay(
    context: ServiceContext, counter: Counter, events: list[probe.Noted], batch: int, timeout: float
) -> float:
    """Commit ``events`` in units of work of ``batch``; returns events/s commit -> handler."""

    async def produce() -> None:
        for start in range(0, len(events), batch):
            async with context.uow() as uow:
                for event in events[start : start + batch]:
                    uow.emit(event)
                await uow.commit()

    started = time.perf_counter()
    producer = asyncio.create_task(produce())
    try:
        await asyncio.wait_for(counter.done.wait(), timeout=timeout)
        await producer
    finally:
        producer.cancel()
    assert counter.done_at is not None
    elapsed = counter.done_at - started
    # Let the relay settle the last batch, then check nothing was lost or delivered twice.
    deadline = time.perf_counter() + timeout
    while await context.relay.backlog() > 0:
        if time.perf_counter() > deadline:
            raise TimeoutError("relay did not publish every event")
        await asyncio.sleep(0.01)
    if counter.count != len(events):
        raise RuntimeError(f"subscriber counted {counter.count} events, expected {len(events)}")
    return len(events) / elapsed


@dataclass
class ThroughputRun:
    relay_events_per_s: float
    baseline_rows_per_s: float

    @property
    def ratio(self) -> float:
        return self.relay_events_per_s / self.baseline_rows_per_s


async def throughput_run(
    backend: Backend, workdir: Path, n: int, batch: int, baseline_rows: list[dict[str, Any]]
) -> ThroughputRun:
    url = await backend.fresh_url()
    bus = InProcessBus()
    counter = Counter(n)
    bus.subscribe("bench", [TOPIC], counter)
    runtime = make_runtime(url, bus, workdir)
    context = runtime["probe"]
    timeout = 120.0 + n / 500
    try:
        await probe.create_tables(context)
        # The baseline first, on the same fresh database and engine, before the relay runs.
        baseline = await bench_baseline(context.db, baseline_rows, batch)
        events = domain_events(n, "relay")
        await runtime.start(relays=True)
        relay = await bench_relay(context, counter, events, batch, timeout)
    finally:
        await runtime.stop()
    return ThroughputRun(relay_events_per_s=relay, baseline_rows_per_s=baseline)


async def latency_run(url: str, workdir: Path, samples: int) -> list[float]:
    """Commit-start to handler latencies in seconds, one event per commit, relay idle."""
    bus = InProcessBus()
    arrivals = Arrivals()
    bus.subscribe("bench", [TOPIC], arrivals)
    runtime = make_runtime(url, bus, workdir)
    context = runtime["probe"]
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    try:
        await probe.create_tables(context)
        await runtime.start(relays=True)
        await asyncio.sleep(0.1)  # let the relay find the empty outbox and go idle
        for i in range(LATENCY_WARMUP + samples):
            key = f"latency-{i}"
            arrived: asyncio.Future[float] = loop.create_future()
            arrivals.waiting[key] = arrived
            async with context.uow() as uow:
                uow.emit(probe.Noted(key=key, note=f"sample {i}"))
                started = time.perf_counter()
                await uow.commit()
            received = await asyncio.wait_for(arrived, timeout=LATENCY_TIMEOUT_S)
            if i >= LATENCY_WARMUP:
                latencies.append(received - started)
            await asyncio.sleep(LATENCY_GAP_S)
    finally:
        await runtime.stop()
    return latencies


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# --------------------------------------------------------------------------- report


@dataclass
class Result:
    backend: str
    database_version: str
    database_settings: dict[str, str]
    events: int
    batch: int
    runs: int
    latency_samples: int
    relay_batch_size: int
    relay_idle_interval_s: float
    relay_events_per_s_median: float
    baseline_rows_per_s_median: float
    ratio_of_medians: float
    latency_ms_median: float
    latency_ms_p95: float
    latency_ms_p99: float
    latency_ms_max: float
    throughput_target_events_per_s: float = 20_000
    latency_target_ms: float = 50
    runs_detail: list[dict[str, float]] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)
    command: str = ""
    seconds: float = 0.0


def environment() -> dict[str, Any]:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 0
    return {
        "cpus": cpus,
        "machine": platform.machine(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": package_version("sqlalchemy"),
        "asyncpg": package_version("asyncpg"),
        "aiosqlite": package_version("aiosqlite"),
        "pydantic": package_version("pydantic"),
    }


async def bench_backend(backend: Backend, args: argparse.Namespace) -> Result:
    began = time.perf_counter()
    load_before = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="cchc-bench-"))
    try:
        baseline_rows = outbox_rows(args.events)
        runs: list[ThroughputRun] = []
        for i in range(args.runs):
            run = await throughput_run(backend, workdir, args.events, args.batch, baseline_rows)
            runs.append(run)
            print(
                f"  {backend.name} run {i + 1}/{args.runs}: relay {run.relay_events_per_s:,.0f} events/s, "
                f"baseline {run.baseline_rows_per_s:,.0f} rows/s, ratio {run.ratio:.2f}",
                file=sys.stderr,
                flush=True,
            )
        latency_url = await backend.fresh_url()
        latencies = await latency_run(latency_url, workdir, args.latency_samples)
        database_settings = await backend.settings(latency_url)
        relay_median = statistics.median(r.relay_events_per_s for r in runs)
        baseline_median = statistics.median(r.baseline_rows_per_s for r in runs)
        defaults = BenchSettings()
        return Result(
            backend=backend.name,
            database_version=await backend.version(),
            database_settings=database_settings,
            events=args.events,
            batch=args.batch,
            runs=args.runs,
            latency_samples=args.latency_samples,
            relay_batch_size=defaults.relay_batch_size,
            relay_idle_interval_s=1.0,
            relay_events_per_s_median=relay_median,
            baseline_rows_per_s_median=baseline_median,
            ratio_of_medians=relay_median / baseline_median,
            latency_ms_median=statistics.median(latencies) * 1000,
            latency_ms_p95=percentile(latencies, 95) * 1000,
            latency_ms_p99=percentile(latencies, 99) * 1000,
            latency_ms_max=max(latencies) * 1000,
            runs_detail=[
                {
                    "relay_events_per_s": r.relay_events_per_s,
                    "baseline_rows_per_s": r.baseline_rows_per_s,
                    "ratio": r.ratio,
                }
                for r in runs
            ],
            environment={
                **environment(),
                "loadavg_1_5_15_before": load_before,
                "loadavg_1_5_15_after": os.getloadavg(),
            },
            command=" ".join(["python -m bench.outbox_relay", *sys.argv[1:]]),
            seconds=time.perf_counter() - began,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def print_table(results: list[Result]) -> None:
    header = (
        f"{'backend':<10} {'version':<8} {'relay ev/s':>11} {'baseline rows/s':>16} {'ratio':>6} "
        f"{'lat p50 ms':>10} {'p95 ms':>7} {'p99 ms':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.backend:<10} {r.database_version.split()[0]:<8} {r.relay_events_per_s_median:>11,.0f} "
            f"{r.baseline_rows_per_s_median:>16,.0f} {r.ratio_of_medians:>6.2f} "
            f"{r.latency_ms_median:>10.2f} {r.latency_ms_p95:>7.2f} {r.latency_ms_p99:>7.2f}"
        )
    for r in results:
        if r.backend == "postgres":
            ok_throughput = r.relay_events_per_s_median >= r.throughput_target_events_per_s
            print(
                f"target >= {r.throughput_target_events_per_s:,.0f} events/s on PostgreSQL: {'met' if ok_throughput else 'NOT met'}"
            )
        ok_latency = r.latency_ms_median < r.latency_target_ms
        print(
            f"target idle latency median < {r.latency_target_ms:.0f} ms on {r.backend}: {'met' if ok_latency else 'NOT met'}"
        )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox_relay", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--events", type=int, default=50_000, help="events per throughput run")
    parser.add_argument(
        "--batch", type=int, default=1000, help="events per unit of work (and rows per baseline transaction)"
    )
    parser.add_argument("--runs", type=int, default=5, help="throughput runs; the median is reported")
    parser.add_argument("--latency-samples", type=int, default=200, help="idle latency samples")
    args = parser.parse_args(argv)
    for name in ("events", "batch", "runs", "latency_samples"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


async def main_async(args: argparse.Namespace) -> list[Result]:
    names = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results = []
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    for name in names:
        print(f"benchmarking {name} ...", file=sys.stderr, flush=True)
        backend: Backend = SqliteBackend() if name == "sqlite" else PostgresBackend()
        try:
            result = await bench_backend(backend, args)
        finally:
            backend.close()
        path = RESULTS_DIR / f"outbox_relay-{name}.json"
        path.write_text(json.dumps(asdict(result), indent=2) + "\n")
        print(f"  wrote {path}", file=sys.stderr, flush=True)
        results.append(result)
    return results


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING)
    args = parse_args(argv)
    results = asyncio.run(main_async(args))
    print_table(results)


if __name__ == "__main__":
    main()
