"""Dossier resolved → its province's ``indicator.changed``, embedded and distributed.

Run ``python -m bench.scoring_latency [--mode both|embedded|distributed] [--probes 60]``.

A province and ``--communes`` communes are entered in plans (``PUT /plans/v1/units``); ``--probes``
dossiers of one commune are pushed open to ``/dossiers/v1/sync/dvcqg`` (admin key), then resolved
one at a time, ``--spacing`` seconds apart (more than the one-second spacing of a key), while a
background sender pushes ``--background`` new open dossiers a second into the other communes
(they move the province's receipts, so the publisher is busy with the same province). A probe
runs from the moment the push that resolves its dossier is answered (the dossier is committed) to
the moment the province's ``indicator.changed`` for ``dossiers.resolved`` (this month) with the
new count reaches the benchmark; the event's own ``time`` (when the publisher emitted it) splits
that into the scoring part and the delivery part.

* **embedded**: ``cchc run`` (all services, SQLite). The event is observed the way an outside
  system sees it there: a webhook subscription (``POST /notifications/v1/webhooks``, type filter
  ``indicator.changed``) to a receiver in this process on 127.0.0.1 — the in-process bus has no
  other door. Delivery therefore includes the notifications consumer and its webhook sender.
* **distributed**: ``cchc serve plans``, ``dossiers`` and ``scoring`` as three processes on a
  PostgreSQL switched to durable settings (fsync, synchronous_commit, full_page_writes on), their
  events on Kafka: librdkafka's mock cluster (``tests/plugins/kafka_mock.py``) in this process,
  which the services reach over TCP like a broker. The event is read from ``cchc.scoring`` by a
  Kafka consumer of this process (its own group), as any subscriber would. The mock broker holds
  every fetch for the consumer's whole ``fetch.max.wait.ms`` even when records arrive meanwhile
  (a Kafka broker answers as soon as they do), which would add up to that wait to each of the two
  hops; so the services and the reader fetch with ``--fetch-wait`` (10 ms; the product's default
  is 500).

p50, p99 (nearest rank) and max in milliseconds; results in ``bench/results/scoring_latency.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer

from bench.outbox_relay import PostgresBackend, environment, percentile
from bench.reads import BIN, Process, load_average
from bench.service_keys import UNLIMITED, bearer, shared_admin_key
from shared.clock import VN_TZ
from tests.plugins.kafka_mock import MockKafkaCluster

RESULTS = Path(__file__).parent / "results"
PROVINCE = "000.00.00.H99"
CHANGED = "vn.cchc.indicator.changed.v1"
STAMP = "%Y%m%d%H%M%S"


def commune(n: int) -> str:
    return f"000.00.{n:02d}.H99"


def record(key: str, unit: str, received: datetime, finished: datetime | None) -> dict[str, Any]:
    """A DongBoHoSoMC record: open (being processed) or returned to the applicant at ``finished``."""
    due = received + timedelta(days=5)
    found = {
        "MaHoSo": key,
        "MaTTHC": "1.004227",
        "TenTTHC": "Cấp giấy phép xây dựng nhà ở riêng lẻ",
        "MaLinhVuc": "G13",
        "TenLinhVuc": "Xây dựng",
        "KenhThucHien": 2,
        "ChuHoSo": "Nguyễn Văn A",
        "NgayTiepNhan": received.astimezone(VN_TZ).strftime(STAMP),
        "NgayHenTra": due.astimezone(VN_TZ).strftime(STAMP),
        "TrangThaiHoSo": 4,
        "DonViXuLy": f"UBND {unit}",
    }
    if finished is not None:
        at = finished.astimezone(VN_TZ).strftime(STAMP)
        found.update(TrangThaiHoSo=10, NgayKetThucXuLy=at, NgayTra=at)
    return found


class Seen:
    """The province's ``dossiers.resolved`` of this month, as events arrive: value → (arrival
    on the monotonic clock, the event's own time)."""

    def __init__(self, month: str) -> None:
        self.month = month
        self.values: dict[float, tuple[float, datetime]] = {}
        self.changed = asyncio.Event()
        self.events = 0

    def note(self, event: dict[str, Any]) -> None:
        self.events += 1
        data = event.get("data") or {}
        if (
            data.get("unit") == PROVINCE
            and data.get("period") == self.month
            and data.get("code") == "dossiers.resolved"
        ):
            when = event.get("time") or event.get("timestamp")
            self.values.setdefault(data["value"], (time.monotonic(), datetime.fromisoformat(when)))
            self.changed.set()

    async def value(self, value: float, timeout: float = 30.0) -> tuple[float, datetime]:
        deadline = time.monotonic() + timeout
        while value not in self.values:
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no indicator.changed with dossiers.resolved = {value}; seen {sorted(self.values)}")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left):
                    await self.changed.wait()
        return self.values[value]


async def post(client: httpx.AsyncClient, records: list[dict[str, Any]]) -> None:
    response = await client.post(
        "/dossiers/v1/sync/dvcqg", json={"service": "DongBoHoSoMC", "isUpdating": True, "data": records}
    )
    if response.status_code != 200:
        raise RuntimeError(f"push: {response.status_code} {response.text[:300]}")
    answer = response.json()
    if answer.get("rejected"):
        raise RuntimeError(f"push: {json.dumps(answer)[:600]}")


async def enter_units(client: httpx.AsyncClient, communes: int) -> None:
    units = [(PROVINCE, {"name": f"UBND {PROVINCE}", "level": "province"})]
    units += [
        (commune(n), {"name": f"UBND {commune(n)}", "level": "commune", "parent_code": PROVINCE})
        for n in range(1, communes + 1)
    ]
    for code, body in units:
        response = await client.put(f"/plans/v1/units/{code}", json=body)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{code}: {response.status_code} {response.text[:300]}")


async def background(client: httpx.AsyncClient, communes: int, per_second: int, stop: asyncio.Event) -> int:
    """New open dossiers into communes 2.., ``per_second`` a second in two pushes; how many."""
    sent, n = 0, 0
    while not stop.is_set():
        now = datetime.now(VN_TZ)
        batch = [
            record(f"{commune(c)}-{now:%y%m%d}-{(n := n + 1):07d}", commune(c), now - timedelta(minutes=5), None)
            for c in random.choices(range(2, communes + 1), k=max(1, per_second // 2))
        ]
        await post(client, batch)
        sent += len(batch)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.5):
                await stop.wait()
    return sent


async def probe_run(client: httpx.AsyncClient, seen: Seen, args: argparse.Namespace) -> dict[str, Any]:
    """Open the probe dossiers, then resolve them one at a time; each probe's latencies (ms)."""
    unit, start = commune(1), datetime.now(VN_TZ) - timedelta(hours=1)
    keys = [f"{unit}-{start:%y%m%d}-9{i:05d}" for i in range(args.probes)]
    await post(client, [record(key, unit, start, None) for key in keys])
    await asyncio.sleep(3)  # the receipts settle
    stop = asyncio.Event()
    sender = asyncio.create_task(background(client, args.communes, args.background, stop))
    total: list[float] = []
    scoring: list[float] = []
    try:
        for i, key in enumerate(keys):
            await asyncio.sleep(args.spacing)
            await post(client, [record(key, unit, start, datetime.now(VN_TZ) - timedelta(seconds=1))])
            answered, answered_at = time.monotonic(), datetime.now(VN_TZ)
            arrived, emitted = await seen.value(i + 1)  # none of this month was resolved before
            total.append((arrived - answered) * 1000)
            scoring.append((emitted - answered_at).total_seconds() * 1000)
    finally:
        stop.set()
        background_sent = await sender
    return {
        "probes": len(total),
        "background_dossiers": background_sent,
        "events_seen": seen.events,
        "total_ms": summary(total),
        "to_event_time_ms": summary(scoring),
        "samples_ms": [round(t, 1) for t in total],
    }


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50), 1),
        "p99": round(percentile(values, 99), 1),
        "max": round(max(values), 1),
        "mean": round(statistics.mean(values), 1),
    }


def receiver(seen: Seen) -> Callable[..., Any]:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if body:
            seen.note(json.loads(body))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


@contextlib.asynccontextmanager
async def webhook_receiver(seen: Seen, port: int) -> AsyncIterator[str]:
    server = uvicorn.Server(uvicorn.Config(receiver(seen), host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        server.should_exit = True
        await task


def this_month() -> str:
    return f"{datetime.now(VN_TZ):%Y-%m}"


async def embedded(args: argparse.Namespace) -> dict[str, Any]:
    seen = Seen(this_month())
    with tempfile.TemporaryDirectory(prefix="cchc-bench-latency-") as data:
        command = [str(BIN / "cchc"), "run", "--data-dir", data, "--host", "127.0.0.1", "--port", str(args.port)]
        env = {**UNLIMITED, "CCHC_LOG_LEVEL": "WARNING"}
        async with (
            Process(command, args.port, "/scoring/readyz", env) as service,
            webhook_receiver(seen, args.port + 9) as hook,
        ):
            key = (Path(data) / "admin.key").read_text().strip()
            async with httpx.AsyncClient(base_url=service.base, headers=bearer(key), timeout=60) as client:
                await enter_units(client, args.communes)
                made = await client.post("/notifications/v1/webhooks", json={"url": hook, "event_types": [CHANGED]})
                if made.status_code != 201:
                    raise RuntimeError(f"webhook: {made.status_code} {made.text[:300]}")
                before = load_average()
                result = await probe_run(client, seen, args)
    return {**result, "load_average_before": before, "load_average_after": load_average()}


async def kafka_events(bootstrap: str, seen: Seen, ready: asyncio.Event, fetch_wait: int) -> None:
    consumer = AIOKafkaConsumer(
        "cchc.scoring",
        bootstrap_servers=bootstrap,
        group_id="bench-latency",
        auto_offset_reset="latest",
        fetch_max_wait_ms=fetch_wait,
    )
    await consumer.start()
    try:
        while not consumer.assignment():
            await asyncio.sleep(0.1)
        ready.set()
        async for message in consumer:
            if message.value is not None:
                seen.note(json.loads(message.value))
    finally:
        await consumer.stop()


async def distributed(args: argparse.Namespace) -> dict[str, Any]:
    seen = Seen(this_month())
    backend = PostgresBackend()
    cluster = MockKafkaCluster()
    try:
        durable = await backend.make_durable()
        bootstrap = cluster.start()
        urls = {name: await backend.fresh_url() for name in ("plans", "dossiers", "scoring")}
        key = await shared_admin_key(urls)
        with tempfile.TemporaryDirectory(prefix="cchc-bench-latency-") as data:
            env = {
                **UNLIMITED,
                "CCHC_LOG_LEVEL": "WARNING",
                "CCHC_DATA_DIR": data,
                "CCHC_BUS": "kafka",
                "CCHC_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "CCHC_KAFKA_PARTITIONS": "1",
                "CCHC_KAFKA_FETCH_MAX_WAIT_MS": str(args.fetch_wait),
                **{f"CCHC_{name.upper()}_DATABASE_URL": url for name, url in urls.items()},
            }
            ports = {name: args.port + n for n, name in enumerate(urls)}
            processes = [
                Process(
                    [str(BIN / "cchc"), "serve", name, "--migrate", "--host", "127.0.0.1", "--port", str(port)],
                    port,
                    f"/{name}/readyz",
                    env,
                )
                for name, port in ports.items()
            ]
            async with processes[0] as plans, processes[1] as dossiers, processes[2]:
                ready = asyncio.Event()
                listener = asyncio.create_task(kafka_events(bootstrap, seen, ready, args.fetch_wait))
                async with asyncio.timeout(60):
                    await ready.wait()
                try:
                    async with httpx.AsyncClient(base_url=plans.base, headers=bearer(key), timeout=60) as client:
                        await enter_units(client, args.communes)
                    await asyncio.sleep(3)  # the units reach dossiers and scoring over Kafka
                    before = load_average()
                    async with httpx.AsyncClient(base_url=dossiers.base, headers=bearer(key), timeout=60) as client:
                        result = await probe_run(client, seen, args)
                finally:
                    listener.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await listener
    finally:
        cluster.close()
        backend.close()
    return {**result, "postgres": durable, "load_average_before": before, "load_average_after": load_average()}


async def main(args: argparse.Namespace) -> None:
    os.environ.update(UNLIMITED)
    results: dict[str, Any] = {"environment": environment(), "args": vars(args)}
    modes = ["embedded", "distributed"] if args.mode == "both" else [args.mode]
    for mode in modes:
        results[mode] = await (embedded if mode == "embedded" else distributed)(args)
        shown = {k: v for k, v in results[mode].items() if k != "samples_ms"}
        print(mode, json.dumps(shown), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scoring_latency.json").write_text(json.dumps(results, indent=2))
    print("\n| mode | probes | push answered → event received, p50 / p99 / max | → event time, p50 / p99 | load |")
    print("|---|---:|---:|---:|---|")
    for mode in modes:
        r = results[mode]
        t, s = r["total_ms"], r["to_event_time_ms"]
        print(
            f"| {mode} | {r['probes']} | {t['p50']} / {t['p99']} / {t['max']} ms | {s['p50']} / {s['p99']} ms "
            f"| {r['load_average_before']} → {r['load_average_after']} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["both", "embedded", "distributed"], default="both")
    parser.add_argument("--probes", type=int, default=60)
    parser.add_argument("--spacing", type=float, default=1.3, help="seconds between two probes (> 1)")
    parser.add_argument("--communes", type=int, default=10)
    parser.add_argument("--background", type=int, default=20, help="background dossiers a second")
    parser.add_argument("--port", type=int, default=8330)
    parser.add_argument(
        "--fetch-wait",
        type=int,
        default=10,
        help="distributed: the consumers' fetch.max.wait.ms (CCHC_KAFKA_FETCH_MAX_WAIT_MS, ms). The mock broker "
        "holds every fetch this long, where a Kafka broker answers once records arrive",
    )
    asyncio.run(main(parser.parse_args()))
