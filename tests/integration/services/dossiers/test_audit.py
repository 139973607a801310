"""The dossiers service's audit log: each change at the desk, to the calendar and the procedures,
each pushed batch and each due time moved leaves exactly one row, by whoever made it."""

from __future__ import annotations

from datetime import datetime

from shared.bus.base import Message
from shared.clock import VN_TZ
from shared.events import CloudEvent
from tests.integration.services.dossiers.conftest import Dossiers, example
from tests.integration.services.dossiers.test_intake_and_queries import AGENCY, PERMIT
from tests.support.audit import AUDITOR, OFFICER, READER, actions, audit_rows, client_as

HOURS = {"windows": ["07:30-11:30", "13:00-16:00"], "same_day_cutoff": "15:00"}
GRAPHQL_HOURS = {"windows": HOURS["windows"], "sameDayCutoff": HOURS["same_day_cutoff"]}
SET_HOURS = (
    "mutation($unit: String!, $input: OfficeHoursInput!) { setOfficeHours(unit: $unit, input: $input) { unit } }"
)


async def test_every_change_leaves_one_row_by_its_author(start_dossiers):
    d: Dossiers = await start_dossiers(now=datetime(2024, 4, 15, 8, tzinfo=VN_TZ))
    await d.register_unit(AGENCY, "UBND xã Cẩm Quang")
    context = d.runtime["dossiers"]
    async with client_as(d.runtime, OFFICER) as http, client_as(d.runtime, AUDITOR) as admin_http:
        assert (await admin_http.put("/dossiers/v1/procedures/1.004227", json=PERMIT)).status_code == 200
        assert (await admin_http.put("/dossiers/v1/procedures/1.004227", json=PERMIT)).status_code == 200  # no change
        intake = {"agency": AGENCY, "ma_tthc": "1.004227", "channel": 2, "applicant": {"name": "Lê Thị Thu Hà"}}
        answer = await http.post("/dossiers/v1/dossiers", json=intake, headers={"x-request-id": "desk-17"})
        key = answer.json()["ma_ho_so"]
        moved = await http.post(f"/dossiers/v1/dossiers/{key}/transitions", json={"to": 4})
        assert moved.status_code == 200
        refused = await http.post(f"/dossiers/v1/dossiers/{key}/transitions", json={"to": 10})
        assert refused.status_code == 409  # refused: it changes nothing and logs nothing
        day = {"working": True, "reason": "Làm bù"}
        assert (await admin_http.put("/dossiers/v1/calendar/days/2024-04-20", json=day)).status_code == 200
        assert (await admin_http.delete("/dossiers/v1/calendar/days/2024-04-20")).status_code == 204
        graphql = await admin_http.post(
            "/graphql", json={"query": SET_HOURS, "variables": {"unit": AGENCY, "input": GRAPHQL_HOURS}}
        )
        assert "errors" not in graphql.json(), graphql.text
        assert (await admin_http.delete(f"/dossiers/v1/calendar/units/{AGENCY}/hours")).status_code == 204
        batch = {"service": "DongBoHoSoMC", "isUpdating": False, "data": example("dongbohosomc.json")["data"]}
        assert (await admin_http.post("/dossiers/v1/sync/dvcqg", json=batch)).status_code == 200
        assert (await admin_http.post("/dossiers/v1/sync/dvcqg", json=batch)).status_code == 200  # all unchanged

    rows = await audit_rows(context)
    due = ("dossier.due_changed", "dossier", key, "admin-binh")  # the calendar's change re-dated it
    assert actions(rows) == [
        ("procedure.set", "procedure", "1.004227", "admin-binh"),
        ("dossier.intake", "dossier", key, "officer-an"),
        ("dossier.transition", "dossier", key, "officer-an"),
        ("calendar.day_set", "calendar_day", "2024-04-20", "admin-binh"),
        due,
        ("calendar.day_removed", "calendar_day", "2024-04-20", "admin-binh"),
        due,
        ("office_hours.set", "unit", AGENCY, "admin-binh"),  # the due time falls the same: not re-dated
        ("office_hours.removed", "unit", AGENCY, "admin-binh"),
        ("dossier.sync", "sync", "DongBoHoSoMC", "admin-binh"),
    ]
    by_action = {r["action"]: r for r in rows}
    intake_row = by_action["dossier.intake"]
    assert (intake_row["client_address"], intake_row["request_id"]) == ("203.0.113.7", "desk-17")
    assert intake_row["actor_unit"] == AGENCY and intake_row["key_id"] == "key_an"
    assert intake_row["changes"]["procedure"] == "1.004227" and "Lê Thị" not in str(rows)  # no personal data
    assert by_action["dossier.transition"]["changes"] == {"status": [2, 4]}
    assert by_action["calendar.day_set"]["changes"] == {"working": [None, True], "reason": [None, "Làm bù"]}
    assert rows[4]["changes"]["reason"] == rows[6]["changes"]["reason"] == "calendar_day"
    assert rows[4]["changes"]["due_at"][0] == rows[6]["changes"]["due_at"][1]  # and back
    assert by_action["office_hours.set"]["changes"]["windows"] == [None, HOURS["windows"]]
    assert by_action["dossier.sync"]["changes"]["created"] == len(batch["data"])


async def test_a_due_time_an_apology_moves_is_logged_as_the_system_with_its_event(start_dossiers):
    d: Dossiers = await start_dossiers(now=datetime(2024, 4, 15, 8, tzinfo=VN_TZ))
    async with client_as(d.runtime, AUDITOR) as http:
        assert (await http.put("/dossiers/v1/procedures/1.004227", json=PERMIT)).status_code == 200
    async with client_as(d.runtime, OFFICER) as http:
        intake = {"agency": AGENCY, "ma_tthc": "1.004227", "applicant": {"name": "Lê Thị Thu Hà"}}
        key = (await http.post("/dossiers/v1/dossiers", json=intake)).json()["ma_ho_so"]
    issued = CloudEvent(
        source="/cchc/notifications",
        type="vn.cchc.letter.issued.v1",
        time=d.clock.now(),
        subject=key,
        data={
            "ma_ho_so": key,
            "letter_id": "L1",
            "number": "1/PXL",
            "issued_at": d.clock.now().isoformat(),
            "new_due_at": "2024-05-20T17:00:00+07:00",
        },
    )
    await d.runtime.bus.publish([Message("cchc.notifications", key, issued.to_json().encode())])
    await d.runtime.bus.publish([Message("cchc.notifications", key, issued.to_json().encode())])  # redelivered
    rows = await audit_rows(d.runtime["dossiers"])
    assert actions(rows)[-1] == ("dossier.due_changed", "dossier", key, "system")
    assert [r["action"] for r in rows].count("dossier.due_changed") == 1
    assert rows[-1]["event_id"] == issued.id and rows[-1]["changes"]["reason"] == "apology"


async def test_admins_find_a_dossiers_history_and_others_are_refused(start_dossiers):
    d: Dossiers = await start_dossiers(now=datetime(2024, 4, 15, 8, tzinfo=VN_TZ))
    async with client_as(d.runtime, AUDITOR) as http:
        assert (await http.put("/dossiers/v1/procedures/1.004227", json=PERMIT)).status_code == 200
    async with client_as(d.runtime, OFFICER) as http:
        intake = {"agency": AGENCY, "ma_tthc": "1.004227", "applicant": {"name": "Lê Thị Thu Hà"}}
        key = (await http.post("/dossiers/v1/dossiers", json=intake)).json()["ma_ho_so"]
        await http.post(f"/dossiers/v1/dossiers/{key}/transitions", json={"to": 4})
        assert (await http.get("/dossiers/v1/audit")).status_code == 403
    async with client_as(d.runtime, READER) as http:
        assert (await http.get("/dossiers/v1/audit")).status_code == 403
    async with client_as(d.runtime, AUDITOR) as http:
        page = (await http.get("/dossiers/v1/audit", params={"object": f"dossier:{key}"})).json()
    assert [(e["action"], e["actor"]) for e in page["items"]] == [
        ("dossier.transition", "officer-an"),
        ("dossier.intake", "officer-an"),
    ]
