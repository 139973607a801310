"""The notifications service's audit log: letters, letter settings, the people of a unit and
webhook endpoints each leave exactly one row per change, never with a person's data."""

from __future__ import annotations

from datetime import timedelta

from shared.clock import ManualClock
from tests.integration.services.notifications.letters.conftest import DUE, KEY, SETTINGS, lateness
from tests.integration.services.notifications.letters.conftest import UNIT as LETTER_UNIT
from tests.support.audit import AUDITOR, OFFICER, actions, audit_rows, client_as
from tests.support.notifications import UNIT

CONTACTS = f"/notifications/v1/recipients/{UNIT}/contacts"
PERSON = {"name": "Trần Thị Bình", "role": "Văn phòng", "phone": "0912345678", "email": "binh@camquang.gov.vn"}


async def test_every_change_leaves_one_row_by_its_author_and_no_personal_data(start_notifications):
    service = await start_notifications(clock=ManualClock(DUE + timedelta(minutes=1)))
    await service.register_unit()
    async with client_as(service.runtime, AUDITOR) as http:
        settings = await http.put(f"/notifications/v1/letter-settings/{LETTER_UNIT}", json=SETTINGS)
        assert settings.status_code == 200, settings.text
        again = await http.put(f"/notifications/v1/letter-settings/{LETTER_UNIT}", json=SETTINGS)
        assert again.status_code == 200  # the same: no row
        person = (await http.post(CONTACTS, json=PERSON)).json()
        changed = {**PERSON, "phone": "0987654321", "role": "Chủ tịch"}
        assert (await http.put(f"{CONTACTS}/{person['id']}", json=changed)).status_code == 200
        assert (await http.put(f"{CONTACTS}/{person['id']}", json=changed)).status_code == 200  # the same: no row
        assert (await http.delete(f"{CONTACTS}/{person['id']}")).status_code == 204

        hook = {"url": "http://127.0.0.1:9/hook?token=s3cret", "event_types": ["vn.cchc.dossier.overdue.v1"]}
        endpoint = (await http.post("/notifications/v1/webhooks", json=hook)).json()
        url = f"/notifications/v1/webhooks/{endpoint['id']}"
        assert (await http.patch(url, json={"enabled": False})).status_code == 200
        assert (await http.patch(url, json={"enabled": False})).status_code == 200  # the same: no row
        assert (await http.post(f"{url}/secret:rotate")).status_code == 200
        assert (await http.delete(url)).status_code == 204

        await service.deliver("cchc.dossiers", "vn.cchc.dossier.overdue.v1", KEY, lateness())  # the system drafts
        [letter] = (await http.get("/notifications/v1/letters", params={"dossier": KEY})).json()["items"]
        letter_url = f"/notifications/v1/letters/{letter['id']}"
        assert (await http.post(f"{letter_url}:issue")).status_code == 409  # refused: no row
        assert (await http.post(f"{letter_url}:approve")).status_code == 200
        assert (await http.post(f"{letter_url}:issue")).status_code == 200
        failed = await http.post(f"{letter_url}:fail", json={"reason": "Thư gửi tới Thôn Trung Hòa bị trả lại"})
        assert failed.status_code == 200

    rows = await audit_rows(service.context)
    by, contact, ep, lt = "admin-binh", str(person["id"]), endpoint["id"], letter["id"]
    assert actions(rows) == [
        ("letter_settings.set", "letter_settings", LETTER_UNIT, by),
        ("contact.added", "contact", contact, by),
        ("contact.changed", "contact", contact, by),
        ("contact.removed", "contact", contact, by),
        ("webhook_endpoint.created", "webhook_endpoint", ep, by),
        ("webhook_endpoint.changed", "webhook_endpoint", ep, by),
        ("webhook_endpoint.secret_rotated", "webhook_endpoint", ep, by),
        ("webhook_endpoint.deleted", "webhook_endpoint", ep, by),
        ("letter.created", "letter", lt, "system"),
        ("letter.approved", "letter", lt, by),
        ("letter.issued", "letter", lt, by),
        ("letter.failed", "letter", lt, by),
    ]
    changes = [r["changes"] for r in rows]
    assert changes[0]["signer_name"] == "changed" and changes[0]["issuing_body"] == [None, SETTINGS["issuing_body"]]
    assert changes[2] == {"unit": UNIT, "phone": "changed", "role": ["Văn phòng", "Chủ tịch"]}
    assert changes[4] == {
        "url": "changed",
        "url_host": [None, "127.0.0.1"],
        "event_types": [None, ["vn.cchc.dossier.overdue.v1"]],
        "enabled": [None, True],
        "personal_data": [None, False],
    }
    assert changes[5] == {"enabled": [True, False]}
    assert changes[10]["number"] == "1/PXL" and changes[11]["failure_reason"] == "changed"
    assert rows[8]["changes"]["dossier"] == KEY and rows[8]["changes"]["origin"] == "overdue"
    logged = str(rows)
    for personal in ("Trần", "0912345678", "binh@", "s3cret", "Trung Hòa", SETTINGS["signer_name"]):
        assert personal not in logged


async def test_the_notifications_log_is_for_admins(start_notifications):
    service = await start_notifications()
    async with client_as(service.runtime, AUDITOR) as http:
        await http.post("/notifications/v1/webhooks", json={"url": "http://127.0.0.1:9/h", "event_types": ["*"]})
    async with client_as(service.runtime, OFFICER) as http:
        assert (await http.get("/notifications/v1/audit")).status_code == 403
    async with client_as(service.runtime, AUDITOR) as http:
        page = (await http.get("/notifications/v1/audit", params={"actor": "admin-binh"})).json()
    assert [e["action"] for e in page["items"]] == ["webhook_endpoint.created"]
