"""The pull API of the simulated province (docs/provincial-pull-api.md) and ``cchc simulate provincial``."""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import httpx
import uvicorn
from fastapi import FastAPI, Header, Query
from fastapi.responses import JSONResponse

from shared.calendar import WorkingCalendar
from shared.clock import VN_TZ, Clock, SystemClock
from simulator.demo import demo_workload
from simulator.province import ChangeFeed, CursorError, Province
from simulator.push import Pusher
from simulator.workload import ProvincialWorkload, stamp

MAX_PAGE = 1000
Cursor = Annotated[str, Query(description="opaque; empty for the beginning")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Authorization = Annotated[str | None, Header()]


def create_app(province: Province, clock: Clock, token: str | None = None, push_to: str | None = None) -> FastAPI:
    """The provincial system's pull API over ``province``, brought up to ``clock`` at each request;
    with ``push_to``, it also pushes every change there while it runs."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if push_to is None:
            yield
            return
        stop = asyncio.Event()
        async with httpx.AsyncClient(timeout=30) as client:
            task = asyncio.create_task(Pusher(client, push_to, province, clock, token=token).run(stop))
            try:
                yield
            finally:
                stop.set()
                await task

    app = FastAPI(title="Hệ thống thông tin giải quyết TTHC (mô phỏng)", lifespan=lifespan)

    def page(
        service: str, feed: ChangeFeed, render: Callable, cursor: str, limit: int, authorization: str | None
    ) -> JSONResponse:
        if token is not None and not _bearer_matches(authorization, token):
            return JSONResponse(
                {"detail": "missing or wrong bearer token"}, 401, headers={"WWW-Authenticate": "Bearer"}
            )
        province.advance(clock.now())
        try:
            keys, position, has_more = feed.page(province.position(cursor), limit)
        except CursorError as error:
            return JSONResponse({"detail": str(error)}, 400)
        data = [render(key) for key in keys]
        return JSONResponse(
            {"service": service, "data": data, "next_cursor": province.cursor(position), "has_more": has_more}
        )

    @app.get("/dvcqg/hoso", summary="Dossiers changed after the cursor (DongBoHoSoMC), in change order")
    def hoso(cursor: Cursor = "", limit: Limit = 500, authorization: Authorization = None) -> JSONResponse:
        return page("DongBoHoSoMC", province.records, province.record, cursor, limit, authorization)

    @app.get("/dvcqg/tien-do", summary="Progress records after the cursor (CapNhatTienDoHoSoMC)")
    def tien_do(cursor: Cursor = "", limit: Limit = 500, authorization: Authorization = None) -> JSONResponse:
        return page("CapNhatTienDoHoSoMC", province.progress, province.progress_record, cursor, limit, authorization)

    @app.get("/", summary="Simulated time and counts")
    def status() -> dict[str, object]:
        province.advance(clock.now())
        return {
            "simulated_now": stamp(province.now),
            "dossiers": province.arrived,
            "changes": province.records.position,
        }

    return app


def _bearer_matches(authorization: str | None, token: str) -> bool:
    scheme, _, value = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(value.encode(), token.encode())


@dataclass(frozen=True)
class Options:
    """What ``cchc simulate provincial`` was asked for."""

    host: str
    port: int
    seed: int
    rate: float
    start: datetime | None  # None: now
    demo: bool
    push_to: str | None
    token: str | None


def build_province(options: Options, now: datetime) -> Province:
    """The province from ``options.start``, its history up to ``now`` already generated: what it
    holds when serving starts. From then on it follows the real clock, never ahead of it."""
    if options.demo:
        workload = demo_workload(options.seed, options.rate)
    else:
        workload = ProvincialWorkload(options.seed, WorkingCalendar(), rate=options.rate)
    province = Province(workload, options.start or now)
    province.advance(now)
    return province


def serve(options: Options) -> None:
    """Build the province and its history, then serve the pull API (and push, if asked) in real time until stopped."""
    clock = SystemClock()
    province = build_province(options, clock.now())
    app = create_app(province, clock, options.token, options.push_to)
    print(
        f"cchc: simulated province on http://{options.host}:{options.port}/dvcqg/hoso, "
        f"{province.arrived} dossiers up to {province.now.astimezone(VN_TZ):%Y-%m-%d %H:%M} (Vietnam time), then in real time"
        + (" (demo: open around the clock, procedures of 15 and 30 minutes)" if options.demo else ""),
        file=sys.stderr,
    )
    uvicorn.run(app, host=options.host, port=options.port, log_config=None)
