"""Plans service: import of an appendix table, and "what does unit X owe this month".

Run ``python -m bench.plans [--backend sqlite|postgres|both] [--rows 2000] [--runs 5]
[--plans 100] [--tasks 200] [--units 50] [--queries 500]``.

For each backend, on fresh databases, with the real plans service (migrations, units registry,
importer, query functions; no HTTP):

* **import**: a ``--rows`` table built by repeating the rows of the four seed plans (their
  sections, numbering, schedules and agency cells as written; the task text gets a running
  number so no two rows are equal) is imported into an empty plans database that holds the demo
  units and groups: ``import_plan`` in one unit of work, then ``commit``. Time runs from the
  call to the end of the commit. **Baseline**: reading the same table with ``read_table`` alone
  (decoding, header mapping, rows; no database, no schedules, no matching).
* **owed** (the reminder scheduler is not running; nothing else touches the database):
  ``--plans`` published plans of ``--tasks`` tasks each, every task led by one of
  ``--units`` communes (round robin) and coordinated by the district's Home Affairs office, a
  quarter of the tasks monthly duties ("Định kỳ vào ngày 25 hàng tháng"), the others due in a
  month or a quarter. ``--queries`` calls of ``queries.owed`` (one page of 100) for a random
  commune and the current month, each in a fresh session; percentiles are nearest-rank over the
  calls after 20 warm-up calls. The objects alive after loading are frozen (``gc.freeze()``)
  before the calls, as a serving process does after start; ``--no-gc-freeze`` skips that. **Baseline**: the same calls of the bare index range scan
  ``SELECT id FROM occurrences WHERE unit_code = ? AND due BETWEEN ? AND ?``.
* **lists**, on the same data after the owed calls: a commune's overdue occurrences (first page
  and ten pages in), task search (a word of every task, a word of one task in all plans and in
  one plan), the plans of a year and of an issuer; ``--queries`` calls each, in fresh sessions.
  ``--plans 50 --tasks 2000`` is the scale issue 17 asks for (100,000 tasks).

PostgreSQL is a throwaway server started with the machinery of ``tests/plugins/postgres_server.py``
(fsync and synchronous_commit off, like the tests). Results go to stdout and to
``bench/results/plans-<backend>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import dataclasses
import io
import json
import logging
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bench.outbox_relay import (
    Backend,
    PostgresBackend,
    SqliteBackend,
    environment,
    percentile,
)
from services.catalog import definitions
from services.plans import demo, importing, planning, queries, service
from services.plans.reminders import ReminderPolicy
from services.plans.schemas import PlanImportIn, UnitGroupIn, UnitIn, UnitLevel
from services.plans.settings import PlansSettings
from services.plans.table_reader import read_table
from shared.runtime import Runtime, freeze_startup_heap

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SEEDS = Path(demo.__file__).parent / "seeds"
HEADER = ["Phần", "STT", "Nhiệm vụ", "Tiến độ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Kết quả/sản phẩm"]
ISSUER = "000.00.10.H20"  # UBND huyện Văn Quan, with its departments, communes and groups
WARMUP = 20

log = logging.getLogger("bench.plans")


@dataclass
class Result:
    backend: str
    import_seconds: list[float] = field(default_factory=list)
    read_seconds: list[float] = field(default_factory=list)
    import_report: dict[str, Any] = field(default_factory=dict)
    owed_ms: list[float] = field(default_factory=list)
    scan_ms: list[float] = field(default_factory=list)
    owed_rows: int = 0
    occurrences: int = 0
    lists_ms: dict[str, list[float]] = field(default_factory=dict)  # the other lists, per query


def appendix(rows: int) -> bytes:
    """A table of ``rows`` rows cycling through the seed plans' rows."""
    seed_rows: list[list[str]] = []
    for name in ("000.csv", "001.csv", "002.csv", "003.csv"):
        with (SEEDS / name).open(encoding="utf-8", newline="") as table:
            seed_rows += [[r[h] for h in HEADER] for r in csv.DictReader(table)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i in range(rows):
        section, label, title, *rest = seed_rows[i % len(seed_rows)]
        writer.writerow([section, label, f"{title} ({i})", *rest])
    return out.getvalue().encode()


def owed_table(tasks: int, units: list[str], plan: int) -> bytes:
    """One plan's table: task i led by commune (plan · tasks + i) mod units."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i in range(tasks):
        unit = commune_name((plan * tasks + i) % len(units))
        schedule = (
            "Định kỳ vào ngày 25 hàng tháng"
            if i % 4 == 0
            else f"Tháng {1 + i % 12}/2024"
            if i % 4 == 1
            else f"Quý {'I' * (1 + i % 3)}/2024"
        )
        writer.writerow(
            [
                f"{'I' * (1 + i % 3)} Lĩnh vực {i % 3}",
                str(i + 1),
                f"Nhiệm vụ {plan}.{i}",
                schedule,
                unit,
                "Phòng Nội vụ",
                "Báo cáo",
            ]
        )
    return out.getvalue().encode()


def commune_name(n: int) -> str:
    return f"UBND xã Thử Nghiệm Số {n}"


async def started(url: str, workdir: Path) -> Runtime:
    settings = PlansSettings(data_dir=workdir, plans_database_url=url)  # type: ignore[arg-type]
    quiet = dataclasses.replace(definitions(["plans"])[0], workers=())  # no reminder sweeps during the timing
    runtime = Runtime([quiet], settings)
    await runtime.start(migrate=True, relays=False)
    return runtime


async def registry(runtime: Runtime, communes: int) -> list[str]:
    """The demo units and groups, plus ``communes`` communes of Văn Quan; their codes."""
    context = runtime["plans"]
    async with context.uow() as uow:
        for row in json.loads(demo.DEMO_UNITS.read_text(encoding="utf-8")):
            code = row.pop("code")
            await service.upsert_unit(uow, code, UnitIn.model_validate(row))
        codes = [f"B.{n:03d}.H20" for n in range(communes)]
        for n, code in enumerate(codes):
            await service.upsert_unit(
                uow, code, UnitIn(name=commune_name(n), level=UnitLevel.commune, parent_code=ISSUER)
            )
        for row in json.loads(demo.DEMO_GROUPS.read_text(encoding="utf-8")):
            code = row.pop("code")
            await service.upsert_group(uow, code, UnitGroupIn.model_validate(row))
        await uow.commit()
    return codes


async def bench_import(backend: Backend, rows: int, runs: int, result: Result, workdir: Path) -> None:
    data = appendix(rows)
    for run in range(runs):
        started_at = time.perf_counter()
        read_table(data, "appendix.csv")
        result.read_seconds.append(time.perf_counter() - started_at)
        runtime = await started(await backend.fresh_url(), workdir / f"import{run}")
        try:
            await registry(runtime, 0)
            async with runtime["plans"].uow() as uow:
                started_at = time.perf_counter()
                report = await importing.import_plan(
                    uow, io.BytesIO(data), "appendix.csv", PlanImportIn(issuer=ISSUER, year=2024)
                )
                await uow.commit()
                result.import_seconds.append(time.perf_counter() - started_at)
            result.import_report = report.model_dump(exclude={"plan_id"})
        finally:
            await runtime.stop()


async def bench_owed(
    backend: Backend, plans: int, tasks: int, units: int, samples: int, result: Result, workdir: Path, *, freeze: bool
) -> None:
    runtime = await started(await backend.fresh_url(), workdir / "owed")
    context = runtime["plans"]
    try:
        codes = await registry(runtime, units)
        for n in range(plans):
            async with context.uow() as uow:
                report = await importing.import_plan(
                    uow,
                    io.BytesIO(owed_table(tasks, codes, n)),
                    f"p{n}.csv",
                    PlanImportIn(issuer=ISSUER, year=2024, title=f"Kế hoạch thử {n + 1}"),
                    # a title of its own: one title a year is one plan, revised by each table
                )
                await planning.publish_plan(uow, report.plan_id, policy=ReminderPolicy((5, 1), 7))
                await uow.commit()
        async with context.db.session() as session:
            if context.db.is_postgres:
                await session.execute(text("analyze"))
            result.occurrences = int(await session.scalar(text("select count(*) from occurrences")) or 0)
        if freeze:
            freeze_startup_heap()  # what a serving process does once started
        rng = random.Random(4)
        start, end, today = date(2024, 3, 1), date(2024, 3, 31), date(2024, 3, 10)
        scan = text("select id from occurrences where unit_code = :u and due between :s and :e")
        for i in range(samples + WARMUP):
            unit = rng.choice(codes)
            async with context.db.session() as session:
                began = time.perf_counter()
                page = await queries.owed(session, unit, start, end, today, limit=100)
                owed_ms = (time.perf_counter() - began) * 1000
            async with context.db.session() as session:
                began = time.perf_counter()
                (await session.execute(scan, {"u": unit, "s": start, "e": end})).all()
                scan_ms = (time.perf_counter() - began) * 1000
            if i >= WARMUP:
                result.owed_ms.append(owed_ms)
                result.scan_ms.append(scan_ms)
                result.owed_rows += len(page.items)
        await bench_lists(context, codes, samples, result)
    finally:
        await runtime.stop()


async def bench_lists(context: Any, codes: list[str], samples: int, result: Result) -> None:
    """The plans' other lists on the same data: a unit's overdue occurrences (first page and ten
    pages in), task search (a word of every task, a word of one task, in all plans and in one), the
    plans of a year and of an issuer; each call in a fresh session, ``samples`` after the warm-up."""
    today = date(2024, 12, 31)
    async with context.db.session() as session:
        plan_ids = list((await session.scalars(text("select id from plans order by id"))).all())
        cursor = None
        for _ in range(10):
            cursor = (await queries.overdue(session, codes[7], today, cursor=cursor)).next_cursor
    last = plan_ids[-1]
    calls: dict[str, Callable[[AsyncSession], Awaitable[Any]]] = {
        "overdue of a commune, first page": lambda s: queries.overdue(s, codes[7], today),
        "overdue of a commune, ten pages in": lambda s: queries.overdue(s, codes[7], today, cursor=cursor),
        "tasks: a word of every task, all plans": lambda s: queries.search_tasks(s, "nhiệm vụ"),
        "tasks: a word of one task, all plans": lambda s: queries.search_tasks(s, f"{len(plan_ids) // 2}.1999"),
        "tasks: a word of one task, one plan": lambda s: queries.search_tasks(s, "1999", plan_id=last),
        "plans of a year": lambda s: queries.list_plans(s, year=2024),
        "plans of an issuer": lambda s: queries.list_plans(s, issuer_code=ISSUER),
    }
    for name, call in calls.items():
        times = []
        for i in range(samples + WARMUP):
            async with context.db.session() as session:
                began = time.perf_counter()
                await call(session)
                if i >= WARMUP:
                    times.append((time.perf_counter() - began) * 1000)
        result.lists_ms[name] = times


async def run_backend(backend: Backend, args: argparse.Namespace, workdir: Path) -> Result:
    result = Result(backend=backend.name)
    await bench_import(backend, args.rows, args.runs, result, workdir)
    await bench_owed(backend, args.plans, args.tasks, args.units, args.queries, result, workdir, freeze=args.gc_freeze)
    return result


def report(result: Result, args: argparse.Namespace) -> dict[str, Any]:
    import_median = statistics.median(result.import_seconds)
    read_median = statistics.median(result.read_seconds)
    summary = {
        "backend": result.backend,
        "import_rows": args.rows,
        "import_median_s": round(import_median, 3),
        "import_runs_s": [round(s, 3) for s in result.import_seconds],
        "read_table_median_s": round(read_median, 3),
        "import_ratio_to_read": round(import_median / read_median, 1),
        "owed_p50_ms": round(percentile(result.owed_ms, 50), 2),
        "owed_p95_ms": round(percentile(result.owed_ms, 95), 2),
        "owed_p99_ms": round(percentile(result.owed_ms, 99), 2),
        "scan_p50_ms": round(percentile(result.scan_ms, 50), 2),
        "scan_p99_ms": round(percentile(result.scan_ms, 99), 2),
        "owed_mean_items": round(result.owed_rows / len(result.owed_ms), 1),
        "occurrences": result.occurrences,
        "lists_ms": {
            name: {"p50": round(percentile(times, 50), 2), "p99": round(percentile(times, 99), 2)}
            for name, times in result.lists_ms.items()
        },
        "import_report": result.import_report,
    }
    return summary


async def main(args: argparse.Namespace) -> None:
    import tempfile

    names = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    RESULTS_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cchc-bench-plans-") as tmp:
        for name in names:
            backend: Backend = SqliteBackend() if name == "sqlite" else PostgresBackend()
            try:
                result = await run_backend(backend, args, Path(tmp) / name)
                summary = {
                    **report(result, args),
                    "version": await backend.version(),
                    "environment": environment(),
                    "args": vars(args),
                }
            finally:
                backend.close()
            (RESULTS_DIR / f"plans-{name}.json").write_text(
                json.dumps({**summary, "raw": asdict(result)}, indent=2, default=str)
            )
            print(
                json.dumps(
                    {k: v for k, v in summary.items() if k not in ("environment", "import_report")}, ensure_ascii=False
                )
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--plans", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="skip the gc.freeze() a serving process does after start",
    )
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(parser.parse_args()))
