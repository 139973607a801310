"""Helpers of the plans service tests: a running plans service over HTTP, its events, test tables."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import unicodedata
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from services.catalog import definitions
from shared.app_factory import create_root_app
from shared.clock import VN_TZ, ManualClock
from shared.runtime import Runtime
from shared.settings import Settings
from tests.support.auth import admin_headers
from tests.support.outbox import committed_events

SEEDS = Path(__file__).parents[2] / "services" / "plans" / "seeds"
DEMO = SEEDS.parent
VAN_QUAN = "000.00.10.H20"
VAN_QUAN_COMMUNES = ["000.00.11.H20", "000.00.12.H20", "000.00.13.H20"]
VAN_QUAN_HOME_AFFAIRS = "000.01.10.H20"
START = datetime(2024, 1, 2, 9, 0, tzinfo=VN_TZ)
KEEP_EVENTS = 24 * 365 * 10  # outbox retention, hours: tests move the clock by months and read the outbox


@dataclasses.dataclass
class Plans:
    """The plans service running in-process (no background workers), with its clock and client."""

    runtime: Runtime
    http: httpx.AsyncClient
    clock: ManualClock

    @property
    def context(self) -> Any:
        return self.runtime["plans"]

    async def events(self, kind: str) -> list[dict[str, Any]]:
        """Payloads of the events of type ``vn.cchc.<kind>.v1`` committed so far, in order."""
        return [event["data"] for event in await committed_events(self.context, kind)]

    async def load_demo_registry(self) -> None:
        """The demo units and groups, through the bulk import and the group API."""
        units = json.loads((DEMO / "demo_units.json").read_text(encoding="utf-8"))
        answer = await self.http.post("/plans/v1/units:import", json=units)
        assert answer.status_code == 200 and all(r["outcome"] != "rejected" for r in answer.json()), answer.text
        for group in json.loads((DEMO / "demo_groups.json").read_text(encoding="utf-8")):
            code = group.pop("code")
            assert (await self.http.put(f"/plans/v1/unit-groups/{code}", json=group)).status_code == 200

    async def import_table(
        self, data: bytes, filename: str = "plan.csv", *, issuer: str = VAN_QUAN, year: int = 2024, **form: str
    ) -> httpx.Response:
        return await self.http.post(
            "/plans/v1/plans:import",
            files={"file": (filename, data, "application/octet-stream")},
            data={"issuer": issuer, "year": str(year), **form},
        )

    async def import_seed(self, name: str = "000.csv", **form: str) -> dict[str, Any]:
        answer = await self.import_table((SEEDS / name).read_bytes(), name, **form)
        assert answer.status_code == 200, answer.text
        return answer.json()


@asynccontextmanager
async def running_plans(
    settings: Settings, *, clock: ManualClock | None = None, also: Sequence[str] = ()
) -> AsyncIterator[Plans]:
    """The plans service (and the services ``also`` names, in the same runtime and bus) on
    ``settings`` without workers and schedulers running: tests drive them themselves."""
    services = [dataclasses.replace(d, workers=()) for d in definitions(["plans", *also])]
    clock = clock or ManualClock(START)
    runtime = Runtime(services, settings, clock=clock)
    await runtime.start(migrate=True, schedulers=False)
    try:
        app = create_root_app(list(runtime.contexts.values()), _no_lifespan)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://test",
            timeout=60,
            headers=await admin_headers(runtime),
        ) as http:
            yield Plans(runtime, http, clock)
    finally:
        await runtime.stop()


async def published_plan(plans: Plans, schedule: str = "Trước 15/01/2024") -> dict[str, Any]:
    """One task (by default due Monday 15/01/2024), lead: the three communes of Văn Quan."""
    plan = (
        await plans.http.post(
            "/plans/v1/plans", json={"issuer_code": VAN_QUAN, "number": "1/KH", "title": "KH", "year": 2024}
        )
    ).json()
    node = f"/plans/v1/plans/{plan['id']}/nodes"
    area = (await plans.http.post(node, json={"kind": "area", "title": "Chỉ đạo"})).json()
    task = (
        await plans.http.post(
            node,
            json={
                "kind": "task",
                "parent_id": area["id"],
                "label": "1",
                "title": "Ban hành kế hoạch",
                "schedule": schedule,
                "lead": "UBND các xã, thị trấn",
            },
        )
    ).json()
    assert (await plans.http.post(f"/plans/v1/plans/{plan['id']}:publish")).status_code == 200
    return task


@asynccontextmanager
async def _no_lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield


def cp1258(text: str) -> bytes:
    """``text`` as Windows-1258 writes Vietnamese: base letters precomposed, tone marks combining."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", char)
            tones = [m for m in marks if m in "\u0300\u0301\u0303\u0309\u0323"]
            rest = "".join(m for m in marks if m not in tones)
            out += (unicodedata.normalize("NFC", base + rest) + "".join(tones)).encode("cp1258")
    return bytes(out)


def csv_bytes(rows: list[list[str]], *, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)
