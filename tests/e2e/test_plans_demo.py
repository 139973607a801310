"""``cchc run --demo`` serves the four seed plans, imported and published, with their obligations."""

from __future__ import annotations

import httpx

from tests.e2e.test_cchc_run import eventually


def test_cchc_run_demo_serves_the_imported_seed_plans(start_cchc):
    base = start_cchc("run", "--demo")
    with httpx.Client(base_url=base, timeout=10) as http:
        plans = http.get("/plans/v1/plans").json()["items"]
        assert sorted(p["issuer_code"] for p in plans) == ["000.00.00.H20", "000.00.10.H20", "000.00.10.H24", "000.00.10.H42"]
        assert {p["status"] for p in plans} == {"published"}
        van_quan = next(p for p in plans if p["number"] == "183/KH-UBND")
        tree = http.get(f"/plans/v1/plans/{van_quan['id']}/tree").json()
        assert tree["areas"][0]["title"] == "CÔNG TÁC CHỈ ĐẠO ĐIỀU HÀNH CCHC"
        owed = http.get("/plans/v1/units/000.01.10.H20/obligations", params={"from": "2024-01-01", "to": "2024-12-31"}).json()
        assert owed["items"] and owed["items"][0]["plan_id"] == van_quan["id"]
        query = '{ plans(year: 2024) { items { number status } } searchTasks(q: "so hoa") { items { title } } }'
        data = http.post("/graphql", json={"query": query}).json()["data"]
        assert len(data["plans"]["items"]) == 4 and data["searchTasks"]["items"]
        # 2024 is over: what Phòng Nội vụ has not reported done is overdue
        assert eventually(lambda: http.get("/plans/v1/units/000.01.10.H20/overdue").json()["items"])
