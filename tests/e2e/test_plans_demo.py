"""``cchc run --demo`` serves the four seed plans, replayed in the current year, imported and published,
with their obligations, and starts without a burst of reminders."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import httpx

from shared.clock import VN_TZ
from tests.e2e.conftest import admin_headers
from tests.e2e.test_cchc_run import eventually

LUC_NGAN_HOME_AFFAIRS = "000.01.10.H24"  # owes duties of December of the year before the plans': overdue all year


def test_cchc_run_demo_serves_the_imported_seed_plans(start_cchc, tmp_path: Path):
    year = datetime.now(VN_TZ).year
    base = start_cchc("run", "--demo")
    with httpx.Client(base_url=base, timeout=10, headers=admin_headers(tmp_path)) as http:
        plans = http.get("/plans/v1/plans").json()["items"]
        assert sorted(p["issuer_code"] for p in plans) == [
            "000.00.00.H20",
            "000.00.10.H20",
            "000.00.10.H24",
            "000.00.10.H42",
        ]
        assert {(p["status"], p["year"]) for p in plans} == {("published", year)}
        van_quan = next(p for p in plans if p["number"] == "183/KH-UBND")
        tree = http.get(f"/plans/v1/plans/{van_quan['id']}/tree").json()
        assert tree["areas"][0]["title"] == "CÔNG TÁC CHỈ ĐẠO ĐIỀU HÀNH CCHC"
        owed = http.get(
            "/plans/v1/units/000.01.10.H20/obligations", params={"from": f"{year}-01-01", "to": f"{year}-12-31"}
        ).json()
        assert owed["items"] and owed["items"][0]["plan_id"] == van_quan["id"]
        query = 'query($year: Int) { plans(year: $year) { items { number status } } searchTasks(q: "so hoa") { items { title } } }'
        data = http.post("/graphql", json={"query": query, "variables": {"year": year}}).json()["data"]
        assert len(data["plans"]["items"]) == 4 and data["searchTasks"]["items"]
        assert eventually(lambda: http.get(f"/plans/v1/units/{LUC_NGAN_HOME_AFFAIRS}/overdue").json()["items"])

    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # how SQLite stores the instants
    with sqlite3.connect(tmp_path / "var" / "plans.db") as db:
        statuses = dict(db.execute("SELECT status, count(*) FROM reminders GROUP BY status").fetchall())
        due_now = db.execute(
            "SELECT count(*) FROM reminders WHERE status = 'pending' AND fire_at <= ?", (now,)
        ).fetchone()[0]
    # No burst at start: what fell due before the demo is history (skipped), what is ahead is pending.
    assert statuses.get("sent", 0) == 0 and due_now == 0
    assert statuses["skipped"] > 0 and statuses["pending"] > 0
