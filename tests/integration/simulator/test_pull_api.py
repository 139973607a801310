"""The pull API of the simulated province, over a real server on loopback."""

from __future__ import annotations

from datetime import timedelta

import httpx

from simulator.server import create_app
from tests.support.live_server import live_server

# A page takes well under a second; httpx's default of 5 s once timed out in CI with both test
# workers and PostgreSQL busy on two CPUs. These tests are about pages, not speed.
TIMEOUT = 30


async def drain(http: httpx.AsyncClient, path: str, cursor: str = "", limit: int = 37) -> tuple[list[dict], str, int]:
    """Every page from ``cursor`` on: the records, the last cursor, and how many pages."""
    records, pages = [], 0
    while True:
        response = await http.get(path, params={"cursor": cursor, "limit": limit})
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["data"]) <= limit
        records += page["data"]
        cursor, pages = page["next_cursor"], pages + 1
        if not page["has_more"]:
            return records, cursor, pages


async def test_pages_list_each_changed_dossier_once_and_a_cursor_resumes(province, clock):
    async with (
        live_server(create_app(province, clock)) as base,
        httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as http,
    ):
        first = (await http.get("/dvcqg/hoso", params={"limit": 5})).json()
        assert first["service"] == "DongBoHoSoMC" and first["has_more"] and len(first["data"]) == 5

        records, cursor, pages = await drain(http, "/dvcqg/hoso")
        codes = [r["MaHoSo"] for r in records]
        assert len(codes) == len(set(codes)) == province.arrived >= 200 and pages > 5
        rest, _, _ = await drain(http, "/dvcqg/hoso", cursor=first["next_cursor"])
        assert [r["MaHoSo"] for r in rest] == [c for c in codes if c not in {r["MaHoSo"] for r in first["data"]}]

        quiet = (await http.get("/dvcqg/hoso", params={"cursor": cursor})).json()
        assert quiet == {"service": "DongBoHoSoMC", "data": [], "next_cursor": cursor, "has_more": False}

        clock.advance(timedelta(days=2))
        changed, _, _ = await drain(http, "/dvcqg/hoso", cursor=cursor)
        before = {r["MaHoSo"]: r for r in records}
        assert changed and len({r["MaHoSo"] for r in changed}) == len(changed)
        for record in changed:  # a dossier seen before comes again only with its newer state
            if record["MaHoSo"] in before:
                assert record != before[record["MaHoSo"]]


async def test_progress_records_page_the_same_way(province, clock):
    async with (
        live_server(create_app(province, clock)) as base,
        httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as http,
    ):
        progress, _, _ = await drain(http, "/dvcqg/tien-do", limit=100)
        assert {p["TrangThai"] for p in progress} >= {2, 4, 9}
        assert all(p["NoiDungXuLy"] and p["PhongBanXuLy"] and len(p["ThoiDiemXuLy"]) == 14 for p in progress)
        times = [p["ThoiDiemXuLy"] for p in progress]
        assert times == sorted(times)


async def test_limits_cursors_and_the_token_are_checked(province, clock):
    async with (
        live_server(create_app(province, clock, token="s3cret-token")) as base,
        httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as http,
    ):
        assert (await http.get("/dvcqg/hoso")).status_code == 401
        assert (await http.get("/dvcqg/hoso", headers={"Authorization": "Bearer wrong"})).status_code == 401
        http.headers["Authorization"] = "Bearer s3cret-token"
        assert (await http.get("/dvcqg/hoso")).status_code == 200
        for limit in (0, 1001, "many"):
            assert (await http.get("/dvcqg/hoso", params={"limit": limit})).status_code == 422
        assert len((await http.get("/dvcqg/hoso", params={"limit": 1000})).json()["data"]) == province.arrived
        bad = await http.get("/dvcqg/hoso", params={"cursor": "not-ours"})
        assert bad.status_code == 400 and "cursor" in bad.json()["detail"]
