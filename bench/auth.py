"""Authentication's cost on the two hot paths, with and without it, in the same run.

Run ``python -m bench.auth [--records 20000] [--batch 500] [--reads 4000] [--runs 3]``.

The dossiers service runs as its own uvicorn process on durable PostgreSQL (as in
bench/dossiers.py), on a fresh database each run, in one of two builds:

* **with**: the app ``cchc serve dossiers`` serves, every request carrying an API key (the key
  ring looked up by the key's SHA-256; the route's access rule checked);
* **without**: the same app with the authentication middleware replaced by one that gives every
  request the same administrator (no header read, no hash, no key ring) and the routes' access
  check by nothing (a build only this benchmark makes). The principal is put where the
  middleware puts it, so both builds take the same paths: the hot read of one dossier
  (shared/hot_reads.py) answers both, as it answers an authenticated administrator.

``--scoped``: the **with** build is called with the province's integration key instead of an
administrator's: the provincial system's own key, limited to the province (its unit tree, the
province and the workload's agencies under it, written into the dossiers database's units replica
of both builds). Authentication then costs the scope too: the unit scope of each request (from
the unit tree kept for requests, shared/scope.py), each pushed record checked against it, and the
read of one dossier checked against it (a hot read for a unit-scoped principal too).

Each run pushes ``--records`` DongBoHoSoMC records in batches of ``--batch`` to
``/dossiers/v1/sync/dvcqg`` (one warm-up batch first), then reads ``--reads`` of them one by one
with ``GET /dossiers/v1/dossiers/{id}``. Both builds run at once, each on its own fresh database,
and get the same requests in turn (which one goes first alternates), one request in flight: the
rates are of the time spent waiting for each build's answers, so load from elsewhere on the
machine weighs on both alike. ``--runs`` such runs; medians are reported.

**middleware**: the CPU time (this process's, so other load on the machine barely counts) of one
request through the authentication middleware and the access check in front of a trivial app,
against the trivial app alone: what authentication adds to every request, in microseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import insert
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.dossiers import START, WARM_UP_START, batches
from bench.outbox_relay import PostgresBackend
from bench.service_keys import UNLIMITED, admin_key
from services.catalog import definitions
from services.dossiers.models import directory
from services.dossiers.settings import DossiersSettings
from shared.access import Access, allows, authorize
from shared.api_keys import KeyRecord, new_key, store
from shared.auth import ADMIN, INTEGRATION, Principal, principal_var
from shared.authentication import Authentication
from shared.calendar import WorkingCalendar
from shared.runtime import Runtime
from simulator.catalogue import AGENCIES
from simulator.workload import ProvincialWorkload

RESULTS = Path(__file__).parent / "results"
PROVINCE = "000.00.00.H42"  # Hà Tĩnh: the workload's agencies are its
BENCH_PRINCIPAL = Principal(subject="bench", roles=frozenset({ADMIN}))


class _Unauthenticated:
    """The "without" build's stand-in for :class:`Authentication`: every request is the bench's
    administrator, put where the middleware puts a principal (not through ``get_principal``'s
    dependency override, which would also turn the hot reads off and so compare two paths)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})["principal"] = BENCH_PRINCIPAL
        reset = principal_var.set(BENCH_PRINCIPAL)
        try:
            await self.app(scope, receive, send)
        finally:
            principal_var.reset(reset)


def build(runtime: Runtime, authenticated: bool) -> FastAPI:
    """The app of one build: ``cchc serve dossiers``'s, or that without authentication."""
    app = runtime.app(migrate=True)
    if not authenticated:
        app.user_middleware = [
            Middleware(_Unauthenticated) if m.cls is Authentication else m for m in app.user_middleware
        ]
        for mounted in (r.app for r in app.routes if isinstance(r, Mount) and isinstance(r.app, FastAPI)):
            mounted.dependency_overrides[authorize] = _nothing  # not the docs pages' static assets
    return app


def serve(port: int, authenticated: bool) -> None:
    """The server process of one run (``python -m bench.auth --serve PORT [--without]``)."""
    runtime = Runtime(definitions(["dossiers"]), DossiersSettings())
    uvicorn.run(build(runtime, authenticated), host="127.0.0.1", port=port, log_config=None)


async def _nothing() -> None:
    return None


class Server:
    """One build of the dossiers service as its own process, on its own fresh database."""

    def __init__(self, url: str, key: str, port: int, authenticated: bool) -> None:
        env = {
            **os.environ,
            **UNLIMITED,  # both builds: the rate limit is not what is measured (and would refuse the run)
            "CCHC_DOSSIERS_DATABASE_URL": url,
            "CCHC_LOG_LEVEL": "WARNING",
            "CCHC_DATA_DIR": "/tmp/cchc-bench",
        }
        command = [sys.executable, "-m", "bench.auth", "--serve", str(port)] + ([] if authenticated else ["--without"])
        self.process = subprocess.Popen(command, env=env)
        headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
        self.client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120, headers=headers)
        self.busy = 0.0  # seconds spent waiting for this server's answers

    async def timed(self, method: str, url: str, **kwargs: Any) -> None:
        started = time.perf_counter()
        answer = (await self.client.request(method, url, **kwargs)).raise_for_status()
        self.busy += time.perf_counter() - started
        if method == "POST":  # a record refused (out of the key's scope) would be work not done
            refused = [r for r in answer.json()["results"] if r["result"] == "rejected"]
            assert not refused, refused[:1]

    async def close(self) -> None:
        await self.client.aclose()
        self.process.terminate()
        self.process.wait(timeout=30)


async def paired_run(
    pg: PostgresBackend, bodies: list[bytes], warm: bytes, ids: list[str], port: int, *, scoped: bool
) -> dict[str, tuple[float, float]]:
    """Both builds at once, each on a fresh database, fed the same requests in turn (which goes
    first alternates), so what else runs on the machine weighs on both alike. Per build:
    (records pushed per second, reads per second) of the time spent waiting for its answers."""
    servers: dict[str, Server] = {}
    try:
        for i, mode in enumerate(("without", "with")):
            url = await pg.fresh_url()
            key = await admin_key(url)
            if scoped:
                province = await province_key(url)
                key = province if mode == "with" else key
            servers[mode] = Server(url, key, port + i, authenticated=mode == "with")
        for server in servers.values():
            await _ready(server.client)
            await server.timed("POST", "/dossiers/v1/sync/dvcqg", content=warm)
        for server in servers.values():
            server.busy = 0.0
        for i, body in enumerate(bodies):
            for server in list(servers.values())[:: 1 if i % 2 else -1]:
                await server.timed("POST", "/dossiers/v1/sync/dvcqg", content=body)
        pushed = {mode: server.busy for mode, server in servers.items()}
        for server in servers.values():
            server.busy = 0.0
        for i, ma_ho_so in enumerate(ids):
            for server in list(servers.values())[:: 1 if i % 2 else -1]:
                await server.timed("GET", f"/dossiers/v1/dossiers/{ma_ho_so}")
        read = {mode: server.busy for mode, server in servers.items()}
    finally:
        for server in servers.values():
            await server.close()
    records = sum(len(json.loads(b)["data"]) for b in bodies)
    return {mode: (records / pushed[mode], len(ids) / read[mode]) for mode in servers}


async def province_key(url: str) -> str:
    """The province's units (the workload's agencies under it) in the units replica of the dossiers
    database at ``url``, and an integration key limited to the province; the key itself."""
    runtime = Runtime(definitions(["dossiers"]), DossiersSettings(dossiers_database_url=url))
    context = runtime["dossiers"]
    key = new_key()
    try:
        await context.migrate()
        now = context.clock.now()
        units = [{"code": PROVINCE, "name": "UBND tỉnh Hà Tĩnh", "level": "province", "parent_code": None}]
        units += [{"code": a.code, "name": a.name, "level": a.level, "parent_code": PROVINCE} for a in AGENCIES]
        record = KeyRecord(
            id=key.id,
            name="bench province",
            role=INTEGRATION,
            unit=PROVINCE,
            key_hash=key.hash,
            created_at=now,
            version=1,
        )
        async with context.uow() as uow:
            for unit in units:
                await uow.session.execute(insert(directory.units).values(**unit, aliases=[], version=1, updated_at=now))
            await store(uow, context.definition.tables.api_keys, record)
            await uow.commit()
    finally:
        await runtime.stop()
    return key.text


async def _ready(client: httpx.AsyncClient) -> None:
    for _ in range(300):
        try:
            if (await client.get("/dossiers/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the service did not become ready")


async def middleware_cost(url: str, requests: int = 50_000) -> dict[str, float]:
    """Microseconds of CPU per request: the trivial app alone, and behind authentication."""
    runtime = Runtime(definitions(["dossiers"]), DossiersSettings(dossiers_database_url=url))
    key = await admin_key(url)
    context = runtime["dossiers"]
    await context.keys.refresh()
    route = object()  # what the router would have matched
    rules = {(id(route), "GET"): Access.DOSSIER_READ}

    async def trivial(scope: Any, receive: Any, send: Any) -> None:
        if not allows(scope["state"]["principal"], rules.get((id(route), "GET"))):
            raise AssertionError("refused")

    async def bare(scope: Any, receive: Any, send: Any) -> None:
        return None

    guarded = Authentication(trivial, keys=context.keys, oidc=None, metrics_token=None, services=["dossiers"])
    headers = [(b"authorization", f"Bearer {key}".encode()), (b"content-type", b"application/json")]
    costs: dict[str, float] = {}
    try:
        for name, app in (("bare", bare), ("authenticated", guarded), ("bare", bare), ("authenticated", guarded)):
            started = time.process_time()
            for _ in range(requests):
                scope = {"type": "http", "path": "/dossiers/v1/dossiers/X", "headers": headers, "method": "GET"}
                await app(scope, _nothing, _nothing)
            costs[name] = min(costs.get(name, 1e9), (time.process_time() - started) / requests * 1e6)
    finally:
        await runtime.stop()
    return {f"{k}_us": round(v, 2) for k, v in costs.items()}


async def main(args: argparse.Namespace) -> None:
    calendar = WorkingCalendar()
    records = list(ProvincialWorkload(1, calendar).dossiers(args.records, START))
    warm = batches(list(ProvincialWorkload(2, calendar).dossiers(args.batch, WARM_UP_START)), args.batch)[0]
    bodies = batches(records, args.batch)
    ids = random.Random(1).sample([r["MaHoSo"] for r in records], min(args.reads, len(records)))
    pg = PostgresBackend()
    results: dict[str, list[tuple[float, float]]] = {"with": [], "without": []}
    try:
        middleware = await middleware_cost(await pg.fresh_url())
        print(f"middleware: {middleware}")
        for run in range(args.runs):
            for mode, (push, reads) in (await paired_run(pg, bodies, warm, ids, 8700, scoped=args.scoped)).items():
                results[mode].append((push, reads))
                print(f"run {run + 1} {mode}: {push:,.0f} records/s, {reads:,.0f} reads/s")
    finally:
        pg.close()
    summary: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "records": args.records,
        "batch": args.batch,
        "reads": len(ids),
        "runs": args.runs,
        "with_key": f"integration, limited to {PROVINCE}" if args.scoped else "admin (the whole system)",
        "load_average_1min": round(os.getloadavg()[0], 1),
        "middleware": middleware,
    }
    for mode, rows in results.items():
        summary[mode] = {
            "push_records_per_s": round(statistics.median(r[0] for r in rows)),
            "reads_per_s": round(statistics.median(r[1] for r in rows)),
        }
    for metric in ("push_records_per_s", "reads_per_s"):
        summary[f"{metric}_cost_percent"] = round(100 * (1 - summary["with"][metric] / summary["without"][metric]), 1)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / ("auth-scoped.json" if args.scoped else "auth.json")).write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--reads", type=int, default=4_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scoped", action="store_true", help="call the with build with the province's integration key")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--without", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        serve(arguments.serve, authenticated=not arguments.without)
    else:
        asyncio.run(main(arguments))
