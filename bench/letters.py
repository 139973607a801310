"""Apology letters: ``dossier.overdue`` events to issued letters, and letters rendered as PDF.

Run ``python -m bench.letters [--backend sqlite|postgres|both] [--events 10000] [--batch 500]
[--latency-samples 200] [--pdfs 10000] [--email]``.

* **letters**: ``--events`` ``dossier.overdue`` events of distinct dossiers (100 units whose
  policy issues letters on their own) handed to the notifications consumer of a real
  :class:`~shared.runtime.Runtime` in bus batches of ``--batch``, as the relay hands them over;
  each makes a letter, numbers it, and emits ``letter.issued`` (all in the consumer's
  transaction). Then the same facts again under new event ids (a resend): the count of letters
  must not move. Reports letters/s. A third of the dossiers are online (channel 2); with
  ``--email`` their applicants leave an e-mail address, so those letters render their PDF (the
  attachment) and queue an e-mail in the issuing transaction, as in production: that measures
  the PDF's share of the cost separately from the database's.
* **latency**: one event at a time; from handing it to the bus to the consumer's commit of the
  issued letter (the in-process bus returns then). Reports p50/p99.
* **pdfs**: the issued letters rendered to PDF one after the other in one thread (what one core
  does), with the process's resident memory sampled every 1,000 PDFs. Reports PDFs/s.

PostgreSQL runs on a throwaway server (``tests/plugins/postgres_server.py``) switched to
durable settings (fsync, synchronous_commit and full_page_writes on) before the run. Results go
to stdout and to ``bench/results/letters-<backend>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import func, select

from bench.outbox_relay import Backend, PostgresBackend, SqliteBackend
from services.catalog import definitions
from services.notifications.letters import service
from services.notifications.letters.models import Letter
from services.notifications.letters.policy import put_settings
from services.notifications.letters.schemas import LetterSettingsIn
from services.notifications.settings import NotificationsSettings
from shared.bus.base import Message
from shared.clock import VN_TZ, ManualClock
from shared.events import CloudEvent, new_event_id
from shared.runtime import Runtime

RESULTS = Path(__file__).with_name("results")
NOW = datetime(2024, 4, 17, 10, 0, tzinfo=VN_TZ)
UNITS = [f"000.00.{n:02d}.H42" for n in range(100)]
SETTINGS = LetterSettingsIn(
    issuing_body="Ủy ban nhân dân xã Cẩm Quang",
    superior_body="UBND huyện Cẩm Xuyên",
    place_name="Cẩm Quang",
    signer_authority="KT. Chủ tịch",
    signer_title="Phó Chủ tịch",
    signer_name="Trần Văn Đức",
    auto_issue=True,
).model_dump()  # every field, as the API hands them over


def overdue_event(n: int, email: bool = False) -> CloudEvent:
    unit = UNITS[n % len(UNITS)]
    key = f"{unit}-240415-{n:06d}"
    data = {
        "ma_ho_so": key,
        "unit": unit,
        "channel": 1 + n % 3,
        "rule_set": "nd61_2018",
        "procedure": {"code": "1.001193", "name": "Đăng ký khai sinh", "field_code": "HT", "field_name": "Hộ tịch"},
        "applicant": {
            "name": "Nguyễn Thị Hồng",
            "address": "Thôn Trung Hòa, xã Cẩm Quang",
            "phone": "0912345678",
            "email": f"nop{n}@example.vn" if email else None,
        },
        "received_at": (NOW - timedelta(days=3)).isoformat(),
        "due_at": (NOW - timedelta(hours=1)).isoformat(),
    }
    return CloudEvent(source="/cchc/dossiers", type="vn.cchc.dossier.overdue.v1", time=NOW, subject=key, data=data)


def message(event: CloudEvent) -> Message:
    return Message(topic="cchc.dossiers", key=event.subject, value=event.to_json().encode())


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def start(url: str, workdir: Path) -> Runtime:
    settings = NotificationsSettings(data_dir=workdir, notifications_database_url=SecretStr(url), bus="inprocess")
    runtime = Runtime(definitions(["notifications"]), settings, clock=ManualClock(NOW))
    await runtime.start(migrate=True, relays=False)  # letter.issued stays in the outbox: no consumer here
    async with runtime["notifications"].uow() as uow:
        for unit in UNITS:
            await put_settings(uow, unit, SETTINGS)
        await uow.commit()
    return runtime


async def count_letters(runtime: Runtime) -> int:
    async with runtime["notifications"].db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Letter)) or 0)


async def run(backend: Backend, args: argparse.Namespace) -> dict[str, Any]:
    if isinstance(backend, PostgresBackend):
        await backend.make_durable()
    url = await backend.fresh_url()
    workdir = Path(tempfile.mkdtemp(prefix="cchc-bench-letters-"))
    runtime = await start(url, workdir)
    try:
        events = [overdue_event(n, args.email) for n in range(args.events)]
        began = time.perf_counter()
        for i in range(0, len(events), args.batch):
            await runtime.bus.publish([message(e) for e in events[i : i + args.batch]])
        elapsed = time.perf_counter() - began
        created = await count_letters(runtime)
        for i in range(0, len(events), args.batch):  # the same facts again, new event ids
            await runtime.bus.publish(
                [message(e.model_copy(update={"id": new_event_id()})) for e in events[i : i + args.batch]]
            )
        after_resend = await count_letters(runtime)

        latencies = []
        for n in range(args.events, args.events + args.latency_samples):
            event = message(overdue_event(n))
            t0 = time.perf_counter()
            await runtime.bus.publish([event])
            latencies.append((time.perf_counter() - t0) * 1000)
        latencies.sort()

        async with runtime["notifications"].db.session() as session:
            letters = (await session.scalars(select(Letter).limit(args.pdfs))).all()
        memory = [rss_mb()]
        began = time.perf_counter()
        size = 0
        for i, letter in enumerate(letters, 1):
            size += len(await service.pdf_of(letter))
            if i % 1000 == 0:
                memory.append(rss_mb())
        pdf_elapsed = time.perf_counter() - began
        return {
            "backend": backend.name,
            "version": await backend.version(),
            "settings": await backend.settings(url),
            "machine": f"{platform.machine()}, {os.cpu_count()} vCPU, Python {platform.python_version()}",
            "letters": {
                "events": args.events,
                "batch": args.batch,
                "email": args.email,
                "seconds": elapsed,
                "letters_per_s": args.events / elapsed,
                "letters": created,
                "after_resend": after_resend,
            },
            "latency_ms": {
                "samples": len(latencies),
                "p50": statistics.median(latencies),
                "p99": latencies[int(len(latencies) * 0.99) - 1],
            },
            "pdfs": {
                "count": len(letters),
                "seconds": pdf_elapsed,
                "pdfs_per_s": len(letters) / pdf_elapsed,
                "mean_kb": size / max(len(letters), 1) / 1024,
                "rss_mb_every_1000": [round(m, 1) for m in memory],
            },
        }
    finally:
        await runtime.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--pdfs", type=int, default=10_000)
    parser.add_argument(
        "--email",
        action="store_true",
        help="applicants leave an e-mail address: online letters render their PDF on issue",
    )
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    for name in ["sqlite", "postgres"] if args.backend == "both" else [args.backend]:
        backend: Backend = SqliteBackend() if name == "sqlite" else PostgresBackend()
        try:
            result = await run(backend, args)
        finally:
            backend.close()
        (RESULTS / f"letters-{name}.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
