"""The four services in one process (as ``cchc run``), on SQLite and PostgreSQL, with a province
and two of its communes, and a dossier of each commune pushed already past due (so each has an
overdue event, an issued apology letter and counters in scoring). Requests name their principal
through tests/support/principals.py."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from services.catalog import definitions
from services.notifications.channels.service import request_delivery
from shared.app_factory import create_root_app
from shared.auth import Principal
from shared.clock import VN_TZ, ManualClock
from shared.runtime import Runtime
from tests.integration.services.dossiers.conftest import example
from tests.integration.services.notifications.letters.conftest import SETTINGS
from tests.support import principals
from tests.support.principals import officer
from tests.support.runtime import no_lifespan

PROVINCE, A, B = "000.00.00.H42", "000.00.12.H42", "000.00.13.H42"
NAMES = {PROVINCE: "UBND tỉnh Hà Tĩnh", A: "UBND xã Cẩm Quang", B: "UBND xã Cẩm Bình"}
NOW = datetime(2024, 4, 17, 10, 0, tzinfo=VN_TZ)  # the pushed dossiers were due on 16/04: already late
RECORD_A = example("dongbohosomc.json")["data"][0]
RECORD_B = {
    **json.loads(json.dumps(RECORD_A).replace(A, B)),
    "DonViXuLy": NAMES[B],
    "ChuHoSo": "Phạm Thị Duyên",
    "SoGiayToChuHoSo": "042190000777",
    "SoDienThoai": "0912555666",
    "Email": "duyen@example.vn",
    "DiaChiChuHoSo": "Thôn Tân Hòa, xã Cẩm Bình",
}
RECORD_A = {**copy.deepcopy(RECORD_A), "Email": "binh@example.vn", "DiaChiChuHoSo": "Thôn Trung, xã Cẩm Quang"}
KEY_A, KEY_B = RECORD_A["MaHoSo"], RECORD_B["MaHoSo"]
PERSONAL_A = ("Trần Văn Bình", "040089000321", "0987000111", "binh@example.vn", "Thôn Trung")
PERSONAL_B = ("Phạm Thị Duyên", "042190000777", "0912555666", "duyen@example.vn", "Thôn Tân Hòa")
PLAN_B, TASK_B = "Kế hoạch riêng của xã Cẩm Bình", "Rà soát thủ tục riêng Cẩm Bình"
CONTACT_B = {"name": "Đỗ Thị Cúc", "email": "cuc@example.vn"}
MARKERS_B = (B, KEY_B, NAMES[B], PLAN_B, TASK_B, CONTACT_B["name"], *PERSONAL_B)
"""What betrays commune B in an answer: its code, dossier, people, plan, task and contact."""
# what the scope tables (test_scope_table.py, test_graphql_scope_table.py) expect of a request about B
SHARED = "shared"  # reference data every unit shares: nothing of B's in it, for anyone
DATA = "data"  # the administrator's answer holds a mark of B
FOUND = "found"  # the administrator gets an answer without a mark (a PDF, a due time, attempts): A's officer none


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 20) -> Any:
    async with asyncio.timeout(timeout):
        while not (result := await check()):
            await asyncio.sleep(0.05)
        return result


@dataclass
class Province:
    runtime: Runtime
    client: httpx.AsyncClient
    clock: ManualClock

    async def call(self, method: str, path: str, who: Principal | None = None, **kwargs: Any) -> httpx.Response:
        headers = principals.as_principal(who) if who is not None else {}
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def get(self, path: str, who: Principal | None = None, **params: Any) -> httpx.Response:
        return await self.call("GET", path, who, params=params)

    async def ok(self, method: str, path: str, who: Principal | None = None, **kwargs: Any) -> Any:
        response = await self.call(method, path, who, **kwargs)
        assert response.status_code in (200, 201, 204), response.text
        return response.json() if response.content else None

    async def graphql(
        self, query: str, who: Principal | None = None, *, endpoint: str = "/graphql", **variables: Any
    ) -> dict[str, Any]:
        response = await self.call("POST", endpoint, who, json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def push(self, records: list[dict[str, Any]], who: Principal | None = None) -> dict[str, Any]:
        body = {"service": "DongBoHoSoMC", "isUpdating": False, "data": records}
        return dict(await self.ok("POST", "/dossiers/v1/sync/dvcqg", who, json=body))

    async def letters(self, key: str) -> list[dict[str, Any]]:
        return list((await self.ok("GET", "/notifications/v1/letters", params={"dossier": key}))["items"])


async def start_province(make_settings: Callable[..., Any], **overrides: Any) -> tuple[Province, Callable[[], Any]]:
    settings = await make_settings(
        "plans", "dossiers", "scoring", "notifications", **{"outbox_retention_hours": 24 * 365, **overrides}
    )
    clock = ManualClock(NOW)
    runtime = Runtime(definitions(), settings, clock=clock)
    await runtime.start(migrate=True)
    app = create_root_app(list(runtime.contexts.values()), no_lifespan)
    principals.install(app)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cchc.test")
    province = Province(runtime, client, clock)
    await province.ok("PUT", f"/plans/v1/units/{PROVINCE}", json={"name": NAMES[PROVINCE], "level": "province"})
    for unit in (A, B):
        body = {"name": NAMES[unit], "level": "commune", "parent_code": PROVINCE}
        await province.ok("PUT", f"/plans/v1/units/{unit}", json=body)

    async def replicated() -> bool:
        ready = [await province.get(f"/notifications/v1/recipients/{u}") for u in (A, B)]
        return all(r.status_code == 200 for r in ready)

    await eventually(replicated)
    for unit in (A, B):
        await province.ok("PUT", f"/notifications/v1/letter-settings/{unit}", json={**SETTINGS, "auto_issue": True})

    async def stop() -> None:
        await client.aclose()
        await runtime.stop()

    return province, stop


async def push_late_dossiers(province: Province) -> None:
    """A dossier of each commune, already late: each gets its overdue event and its issued letter."""
    pushed = await province.push([RECORD_A, RECORD_B])
    assert pushed["created"] == 2, pushed

    async def issued() -> bool:
        letters = [await province.letters(k) for k in (KEY_A, KEY_B)]
        return all(any(x["number"] for x in found) for found in letters)

    await eventually(issued)


async def objects_of_b(province: Province) -> dict[str, Any]:
    """Commune B's own group, plan (a monthly task it leads, published, with a target), contact, a
    delivery of the notifications log and its apology letter; their ids."""
    await province.ok("PUT", "/plans/v1/unit-groups/nhom-cam-binh", json={"name": "Nhóm Cẩm Bình", "owner_code": B})
    plan = (await province.ok("POST", "/plans/v1/plans", json={"issuer_code": B, "year": 2024, "title": PLAN_B}))["id"]
    nodes = f"/plans/v1/plans/{plan}/nodes"
    area = await province.ok("POST", nodes, json={"kind": "area", "label": "I", "title": "Cải cách TTHC"})
    task = {"kind": "task", "parent_id": area["id"], "label": "1", "title": TASK_B, "schedule": "Hằng tháng"}
    await province.ok("POST", nodes, json={**task, "lead": NAMES[B]})
    await province.ok("POST", f"/plans/v1/plans/{plan}:publish")
    target = {"metric_code": "dossiers.on_time_rate", "operator": ">=", "value": "90", "period": "2024"}
    await province.ok("POST", f"/plans/v1/plans/{plan}/targets", json=target)
    tree = await province.ok("GET", f"/plans/v1/plans/{plan}/tree")
    obligation = tree["areas"][0]["children"][0]["obligations"][0]["id"]
    occurrence = (await province.ok("GET", f"/plans/v1/obligations/{obligation}/occurrences"))[0]["id"]
    await province.ok("POST", f"/notifications/v1/recipients/{B}/contacts", json=CONTACT_B)
    notifications = province.runtime["notifications"]
    async with notifications.uow() as uow:
        delivery = await request_delivery(
            uow, unit_code=B, channel="email", to=PERSONAL_B[3], subject="Thư xin lỗi", text="Kính gửi bà."
        )
        await uow.commit()
    [letter] = await province.letters(KEY_B)
    return {"plan": plan, "obligation": obligation, "occurrence": occurrence, "delivery": delivery.id, "letter": letter}


async def provincial_plan(province: Province) -> tuple[int, dict[str, int]]:
    """A plan of the province with one task led by commune A and coordinated by commune B; the
    obligation ids by unit."""
    provincial = officer(PROVINCE)
    plan = await province.ok(
        "POST",
        "/plans/v1/plans",
        provincial,
        json={"issuer_code": PROVINCE, "year": 2024, "title": "Kế hoạch CCHC năm 2024"},
    )
    area = await province.ok(
        "POST",
        f"/plans/v1/plans/{plan['id']}/nodes",
        provincial,
        json={"kind": "area", "label": "I", "title": "Cải cách thủ tục hành chính"},
    )
    task = {
        "kind": "task",
        "parent_id": area["id"],
        "label": "1",
        "title": "Rà soát thủ tục",
        "schedule": "Trước 15/05/2024",
        "lead": NAMES[A],
        "coordinating": NAMES[B],
    }
    await province.ok("POST", f"/plans/v1/plans/{plan['id']}/nodes", provincial, json=task)
    await province.ok("POST", f"/plans/v1/plans/{plan['id']}:publish", provincial)
    tree = await province.ok("GET", f"/plans/v1/plans/{plan['id']}/tree", provincial)
    obligations = {o["unit_code"]: o["id"] for o in tree["areas"][0]["children"][0]["obligations"]}
    assert set(obligations) == {A, B}
    return plan["id"], obligations


@pytest.fixture
async def start(make_settings: Callable[..., Any]) -> AsyncIterator[Callable[..., Awaitable[Province]]]:
    stops: list[Callable[[], Any]] = []

    async def start(**overrides: Any) -> Province:
        province, stop = await start_province(make_settings, **overrides)
        stops.append(stop)
        return province

    yield start
    for stop in stops:
        await stop()


@pytest.fixture
async def province(start: Callable[..., Awaitable[Province]]) -> Province:
    """The province with its two late dossiers pushed."""
    started = await start()
    await push_late_dossiers(started)
    return started
