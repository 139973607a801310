"""Scoring end to end in embedded mode (``cchc run``): dossiers pushed to the provincial sync move
the indicators of their unit and its parent; a re-sent batch changes nothing; ``cchc scoring
verify`` agrees with the live model, catches a tampered row, and ``rebuild`` repairs it (audited)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx

from tests.e2e.conftest import CCHC, CHECKOUT, admin_headers
from tests.e2e.test_cchc_run import eventually

EXAMPLE = CHECKOUT / "tests" / "fixtures" / "dvcqg" / "dongbohosomc.json"
PROVINCE, COMMUNE = "000.00.00.H42", "000.00.12.H42"


def indicators(http: httpx.Client, unit: str) -> dict[str, float | None]:
    body = http.get("/scoring/v1/indicators", params={"unit": unit, "period": "2024"}).json()
    return {i["code"]: i["value"] for i in body["items"]}


def settled(http: httpx.Client) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """The commune's and the province's indicators once events stop moving them (two reads alike)."""
    deadline = time.monotonic() + 20
    last = (indicators(http, COMMUNE), indicators(http, PROVINCE))
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = (indicators(http, COMMUNE), indicators(http, PROVINCE))
        if now == last:
            return now
        last = now
    raise AssertionError("the indicators kept moving")


def scoring_cli(action: str, base: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CCHC_DATA_DIR": str(data_dir), "PYTHONPATH": str(CHECKOUT)}
    return subprocess.run(
        [CCHC, "scoring", action, "--url", base, "--token", (data_dir / "admin.key").read_text().strip()],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_pushed_dossiers_move_the_unit_and_its_parent_and_a_resend_changes_nothing(start_cchc, tmp_path: Path) -> None:
    base = start_cchc("run", probe="/scoring/healthz")
    batch = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    with httpx.Client(base_url=base, timeout=10, headers=admin_headers(tmp_path)) as http:
        assert (
            http.put(f"/plans/v1/units/{PROVINCE}", json={"name": "UBND tỉnh Hà Tĩnh", "level": "province"}).status_code
            == 200
        )
        assert (
            http.put(
                f"/plans/v1/units/{COMMUNE}",
                json={"name": "UBND xã Cẩm Quang", "level": "commune", "parent_code": PROVINCE},
            ).status_code
            == 200
        )
        assert eventually(lambda: http.get("/scoring/v1/indicators", params={"unit": PROVINCE, "period": "2024"}))
        assert indicators(http, PROVINCE)["dossiers.received"] == 0  # before: nothing

        pushed = http.post("/dossiers/v1/sync/dvcqg", json=batch).json()
        assert pushed["created"] == len(batch["data"])
        expected = len(batch["data"])
        assert eventually(  # the open one is long past due: its dossier.overdue follows the push
            lambda: (
                indicators(http, COMMUNE)["dossiers.resolved"] >= 1
                and indicators(http, COMMUNE)["dossiers.open_overdue"] >= 1
                and indicators(http, PROVINCE)["dossiers.received"] == expected
            )
        )
        commune, province = settled(http)
        assert commune == province  # the commune is the province's only unit with dossiers
        assert province["dossiers.received"] == expected and province["dossiers.online_rate"] > 0

        again = http.post("/dossiers/v1/sync/dvcqg", json=batch).json()
        assert again["unchanged"] == len(batch["data"])
        assert eventually(lambda: http.get("/dossiers/v1/dossiers").json()["items"])
        assert settled(http) == (commune, province)

    data_dir = tmp_path / "var"
    clean = scoring_cli("verify", base, data_dir)
    assert clean.returncode == 0, clean.stderr
    with sqlite3.connect(data_dir / "scoring.db") as db:
        db.execute(
            "UPDATE counters SET received = received + 5 WHERE rowid = (SELECT min(rowid) FROM counters WHERE received > 0)"
        )
    tampered = scoring_cli("verify", base, data_dir)
    assert tampered.returncode == 1
    difference = json.loads(tampered.stdout.splitlines()[0])
    assert (
        difference["unit"] == COMMUNE
        and difference["code"] == "received"
        and difference["live"] - difference["recount"] == 5
    )
    rebuilt = scoring_cli("rebuild", base, data_dir)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert scoring_cli("verify", base, data_dir).returncode == 0
    with sqlite3.connect(data_dir / "scoring.db") as db:  # the rebuild is in the audit log, by the command
        logged = db.execute("SELECT action, object_id, actor FROM audit_log").fetchall()
    assert logged == [("read_model.rebuilt", "scoring", "cli")]
