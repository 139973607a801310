"""Webhooks: deliveries/s to a loopback receiver, and what signing costs.

Run ``python -m bench.webhooks [--deliveries 1000] [--backend sqlite|postgres] [--runs 3]``.

* **deliveries**: ``--deliveries`` messages are queued for one endpoint (untimed: the consumer's
  fan-out of as many events), then the webhook worker's sweep (``send_due``: claim a batch with a
  lease, POST each message signed per Standard Webhooks, up to
  ``CCHC_NOTIFICATIONS_WEBHOOK_CONCURRENCY`` in flight, log every attempt) runs until all are
  delivered. The receiver is a minimal ASGI app under uvicorn in another process on 127.0.0.1,
  answering 204. Every delivery must end ``succeeded``.
* **signing**: the ``webhook-*`` headers of a typical message (a ``dossier.overdue`` event of
  about 900 bytes) computed 20,000 times with one secret, and with two (during a rotation's
  overlap), in µs per message.

PostgreSQL runs on a throwaway server started with the machinery of
``tests/plugins/postgres_server.py``, switched to production's durability (fsync,
synchronous_commit and full_page_writes on). Results go to stdout and ``bench/results/webhooks-<backend>.json``.
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
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import func, select

from services.catalog import definitions
from services.notifications.settings import NotificationsSettings
from services.notifications.webhooks import service, worker
from services.notifications.webhooks.models import WebhookDelivery, WebhookEndpoint
from services.notifications.webhooks.schemas import WebhookIn
from shared.events import CloudEvent
from shared.runtime import Runtime

RESULTS = Path(__file__).parent / "results"
SIGNATURES = 20_000


async def receiver_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The receiver: reads the body, answers 204."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def overdue_event(i: int, at: datetime) -> CloudEvent:
    data = {
        "ma_ho_so": f"000.00.12.H42-250303-{i:06d}",
        "unit": "000.00.12.H42",
        "procedure": {"code": "1.001193", "name": "Đăng ký khai sinh", "field_code": "HT", "field_name": "Hộ tịch"},
        "channel": 1,
        "applicant": {"name": "Nguyễn Văn A", "address": "Thôn 3, xã Cẩm Quang", "phone": "0912345678", "email": None},
        "received_at": "2025-03-03T08:00:00+07:00",
        "due_at": "2025-03-05T16:30:00+07:00",
        "rule_set": "nd118-2025",
    }
    return CloudEvent(
        source="/cchc/dossiers", type="vn.cchc.dossier.overdue.v1", time=at, subject=data["ma_ho_so"], data=data
    )


async def delivery_run(url: str, receiver: str, count: int, workdir: Path) -> dict[str, float]:
    settings = NotificationsSettings(data_dir=workdir, notifications_database_url=SecretStr(url))
    runtime = Runtime(definitions(["notifications"]), settings)
    await runtime.migrate()
    context = runtime["notifications"]
    try:
        async with context.uow() as uow:
            body = WebhookIn(url=f"{receiver}/hook", event_types=["*"])
            await service.create_endpoint(uow, body, settings)
            now = context.clock.now()
            for i in range(count):
                await service.fan_out(uow, overdue_event(i, now))
            await uow.commit()
        async with worker.client_session(settings) as client:
            started = time.perf_counter()
            sent = 0
            while sent < count:
                sent += await worker.send_due(context, client, context.clock.now())
            elapsed = time.perf_counter() - started
        async with context.uow() as uow:
            ok = await uow.session.scalar(select(func.count()).where(WebhookDelivery.status == "succeeded"))
        assert ok == count, f"{ok} of {count} deliveries succeeded"
        return {"seconds": elapsed, "deliveries_per_second": count / elapsed}
    finally:
        await context.db.dispose()


def signing_cost() -> dict[str, float]:
    at = datetime.now(UTC)
    body = service.message_body(overdue_event(1, at))
    endpoint = WebhookEndpoint(
        id="ep_bench", secret=service.new_secret(), previous_secret=None, previous_secret_until=None
    )
    results = {"body_bytes": float(len(body.encode()))}
    for name in ("one_secret", "two_secrets"):
        if name == "two_secrets":
            endpoint.previous_secret, endpoint.previous_secret_until = service.new_secret(), at + timedelta(hours=1)
        started = time.perf_counter()
        for i in range(SIGNATURES):
            service.headers(endpoint, f"msg_{i}", at, body)
        results[f"{name}_us_per_message"] = (time.perf_counter() - started) / SIGNATURES * 1e6
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    port = free_port()
    receiver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.webhooks:receiver_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
    )
    pg = None
    try:
        async with asyncio.timeout(20):
            while True:
                try:
                    async with httpx.AsyncClient() as client:
                        await client.post(f"http://127.0.0.1:{port}/")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        runs = []
        server: dict[str, str] = {}
        with tempfile.TemporaryDirectory() as tmp:
            if args.backend == "postgres":
                from bench.outbox_relay import PostgresBackend

                pg = PostgresBackend()
                server = await pg.make_durable()
            for run in range(args.runs):
                url = await pg.fresh_url() if pg else f"sqlite+aiosqlite:///{tmp}/notifications-{run}.db"
                runs.append(await delivery_run(url, f"http://127.0.0.1:{port}", args.deliveries, Path(tmp)))
                print(f"run {run + 1}: {runs[-1]['deliveries_per_second']:.0f} deliveries/s", flush=True)
        rates = [r["deliveries_per_second"] for r in runs]
        result = {
            "benchmark": "webhooks",
            "backend": args.backend,
            "deliveries": args.deliveries,
            "concurrency": NotificationsSettings().notifications_webhook_concurrency,
            "postgres": server if pg else None,
            "runs": runs,
            "median_deliveries_per_second": statistics.median(rates),
            "load_average": os.getloadavg(),
            "signing": signing_cost(),
            "python": platform.python_version(),
            "cpus": len(os.sched_getaffinity(0)),
        }
    finally:
        receiver.terminate()
        receiver.wait()
        if pg is not None:
            pg.close()
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"webhooks-{args.backend}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
