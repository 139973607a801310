"""The pull connector against the simulated province served on loopback."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.types import ASGIApp, Receive, Scope, Send

from services.dossiers.connectors.pull import ConfigurationError, PullConnector
from shared.calendar import WorkingCalendar
from shared.clock import VN_TZ, ManualClock
from simulator.province import Province
from simulator.server import create_app
from simulator.workload import ProvincialWorkload
from tests.support.live_server import live_server


class MemorySink:
    """Records and cursors in memory; a page and its cursor are kept together or not at all."""

    def __init__(self) -> None:
        self.cursors: dict[str, str] = {}
        self.records: list[dict] = []
        self.fail_after_pages: int | None = None

    async def load_cursor(self, source: str) -> str | None:
        return self.cursors.get(source)

    async def apply_page(self, source: str, records: list[dict], cursor: str | None, next_cursor: str) -> bool:
        if self.cursors.get(source) != cursor:
            return False
        if self.fail_after_pages is not None:
            if self.fail_after_pages == 0:
                raise RuntimeError("database unavailable")
            self.fail_after_pages -= 1
        self.records += records
        self.cursors[source] = next_cursor
        return True


class Flaky:
    """Answers 503 to the first ``failures`` requests, then passes them on."""

    def __init__(self, app: ASGIApp, failures: int) -> None:
        self.app, self.failures, self.requests = app, failures, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.requests += 1
            if self.failures > 0:
                self.failures -= 1
                await send({"type": "http.response.start", "status": 503, "headers": []})
                await send({"type": "http.response.body", "body": b"busy"})
                return
        await self.app(scope, receive, send)


@pytest.fixture
def province() -> Province:
    simulated = Province(ProvincialWorkload(21, WorkingCalendar(), rate=30), datetime(2024, 4, 15, 6, tzinfo=VN_TZ))
    simulated.admit(150)
    return simulated


@pytest.fixture
def clock(province: Province) -> ManualClock:
    return ManualClock(province.now)


def codes(records: list[dict]) -> list[str]:
    return [r["MaHoSo"] for r in records]


async def test_poll_once_drains_every_page(province, clock):
    sink = MemorySink()
    async with live_server(create_app(province, clock, token="tk")) as base, httpx.AsyncClient() as client:
        connector = PullConnector(client, f"{base}/dvcqg/hoso", sink, page_size=20, token="tk")
        assert await connector.poll_once() == province.arrived
        assert sorted(codes(sink.records)) == sorted(set(codes(sink.records))) and sink.cursors["dvcqg"]
        assert await connector.poll_once() == 0


async def test_a_restarted_connector_resumes_from_the_saved_cursor_without_duplicates(province, clock):
    sink = MemorySink()
    async with live_server(create_app(province, clock)) as base, httpx.AsyncClient() as client:
        url = f"{base}/dvcqg/hoso"
        sink.fail_after_pages = 3  # the process dies while applying the fourth page
        with pytest.raises(RuntimeError):
            await PullConnector(client, url, sink, page_size=25).poll_once()
        assert len(sink.records) == 75

        sink.fail_after_pages = None
        assert await PullConnector(client, url, sink, page_size=25).poll_once() == province.arrived - 75
        assert len(set(codes(sink.records))) == len(sink.records) == province.arrived

        clock.advance(timedelta(hours=6))
        seen = len(sink.records)
        await PullConnector(client, url, sink, page_size=25).poll_once()
        later = codes(sink.records[seen:])
        assert later and len(later) == len(set(later))


async def test_a_failed_page_leaves_the_cursor_where_it_was(province, clock):
    sink = MemorySink()
    sink.fail_after_pages = 0
    async with live_server(create_app(province, clock)) as base, httpx.AsyncClient() as client:
        connector = PullConnector(client, f"{base}/dvcqg/hoso", sink, page_size=50)
        with pytest.raises(RuntimeError):
            await connector.poll_once()
        assert sink.cursors == {} and sink.records == []
        sink.fail_after_pages = None
        assert await connector.poll_once() == province.arrived


async def test_run_backs_off_on_503_then_succeeds(province, clock):
    sink, stop = MemorySink(), asyncio.Event()
    flaky = Flaky(create_app(province, clock), failures=2)

    def server_errors() -> float:
        return REGISTRY.get_sample_value("cchc_pull_errors_total", {"source": "flaky", "kind": "server"}) or 0.0

    before = server_errors()
    async with live_server(flaky) as base, httpx.AsyncClient() as client:
        connector = PullConnector(
            client,
            f"{base}/dvcqg/hoso",
            sink,
            source="flaky",
            poll_interval=0.05,
            backoff_initial=0.01,
            backoff_max=0.05,
        )
        task = asyncio.create_task(connector.run(stop))
        for _ in range(200):
            if len(sink.records) == province.arrived:
                break
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(task, 5)
    assert len(sink.records) == province.arrived
    assert server_errors() - before == 2 and flaky.requests > 2


async def test_a_client_error_is_a_configuration_error(province, clock):
    async with live_server(create_app(province, clock, token="right")) as base, httpx.AsyncClient() as client:
        connector = PullConnector(client, f"{base}/dvcqg/hoso", MemorySink(), token="wrong")
        with pytest.raises(ConfigurationError):
            await connector.poll_once()
