"""Citizens' personal data (names, ID numbers, phones, e-mails, addresses): masked for a viewer in
REST and GraphQL (dossiers, letters and their PDFs, contacts), masked in webhook payloads unless an
administrator allowed the endpoint to see it, and never in the logs of the headline flow (a late
dossier pushed, its letter issued, its webhooks sent) even at DEBUG."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from shared.logs import PRINT_DATA, JsonFormatter, configure_logging
from tests.integration.security.conftest import (
    KEY_A,
    KEY_B,
    PERSONAL_A,
    PERSONAL_B,
    A,
    B,
    Province,
    push_late_dossiers,
)
from tests.integration.services.notifications.letters.conftest import pdf_text
from tests.support.live_server import live_server
from tests.support.notifications import Receiver
from tests.support.principals import admin, officer, viewer

OVERDUE = "vn.cchc.dossier.overdue.v1"


def leaks(text: str, personal: tuple[str, ...]) -> list[str]:
    return [value for value in personal if value in text]


async def test_a_viewer_sees_dossiers_letters_and_contacts_with_personal_data_masked(province: Province):
    clear = (await province.get(f"/dossiers/v1/dossiers/{KEY_A}", officer(A))).json()["applicant"]
    assert clear["name"] == "Trần Văn Bình" and clear["phone"] == "0987000111"  # positive control
    seen = await province.get(f"/dossiers/v1/dossiers/{KEY_A}", viewer())
    assert seen.json()["applicant"] == {
        "name": "T*** V*** B***",
        "id_number": "0400***321",
        "type": 1,
        "email": "b***@example.vn",
        "phone": "0987***111",
        "address": "***",
    }
    listed = await province.get("/dossiers/v1/dossiers", viewer())
    assert len(listed.json()["items"]) == 2 and not leaks(listed.text, PERSONAL_A + PERSONAL_B)

    query = "query($k: String!) { dossier(maHoSo: $k) { applicantName applicantIdNumber applicantPhone applicantEmail applicantAddress } }"
    masked = (await province.graphql(query, viewer(), k=KEY_B))["data"]["dossier"]
    assert masked == {
        "applicantName": "P*** T*** D***",
        "applicantIdNumber": "0421***777",
        "applicantPhone": "0912***666",
        "applicantEmail": "d***@example.vn",
        "applicantAddress": "***",
    }
    assert (await province.graphql(query, officer(B), k=KEY_B))["data"]["dossier"]["applicantName"] == PERSONAL_B[0]

    [letter] = (await province.get("/notifications/v1/letters", viewer(), dossier=KEY_A)).json()["items"]
    officers = " ".join(
        pdf_text((await province.get(f"/notifications/v1/letters/{letter['id']}.pdf", officer(A))).content).split()
    )
    assert "Trần Văn Bình" in officers  # the letter is addressed to the applicant by name
    viewers = " ".join(
        pdf_text((await province.get(f"/notifications/v1/letters/{letter['id']}.pdf", viewer())).content).split()
    )
    assert "Trần Văn Bình" not in viewers and "T*** V*** B***" in viewers and "0987000111" not in viewers
    text = await province.get(f"/notifications/v1/letters/{letter['id']}/text", viewer(), channel="zalo")
    assert text.status_code == 200 and not leaks(text.text, PERSONAL_A)

    person = {"name": "Hoàng Văn Nam", "email": "nam@example.vn", "phone": "0912345678"}
    await province.ok("POST", f"/notifications/v1/recipients/{A}/contacts", admin(), json=person)
    [contact] = (await province.get(f"/notifications/v1/recipients/{A}/contacts", viewer(A))).json()["items"]
    assert (contact["name"], contact["email"], contact["phone"]) == ("H*** V*** N***", "n***@example.vn", "+849***678")
    [same] = (await province.get(f"/notifications/v1/recipients/{A}/contacts", officer(A))).json()["items"]
    assert same["name"] == "Hoàng Văn Nam"


async def test_a_units_webhook_gets_only_its_units_events_and_personal_data_only_when_allowed(start):
    province = await start(notifications_webhook_retry_schedule=[0.05, 0.1])
    receivers = {name: Receiver() for name in ("a", "all", "personal")}
    async with live_server(receivers["a"].app()) as url_a, live_server(receivers["all"].app()) as url_all:
        async with live_server(receivers["personal"].app()) as url_personal:
            hook = {"event_types": [OVERDUE]}
            refused = await province.call(
                "POST", "/notifications/v1/webhooks", admin(A), json={**hook, "url": url_a, "personal_data": True}
            )
            assert refused.status_code == 403  # only a system administrator lets personal data out
            other = await province.call(
                "POST", "/notifications/v1/webhooks", admin(A), json={**hook, "url": url_a, "unit_code": B}
            )
            assert other.status_code == 404
            of_a = await province.ok("POST", "/notifications/v1/webhooks", admin(A), json={**hook, "url": url_a})
            assert (of_a["unit_code"], of_a["personal_data"]) == (A, False)
            await province.ok("POST", "/notifications/v1/webhooks", admin(), json={**hook, "url": url_all})
            await province.ok(
                "POST", "/notifications/v1/webhooks", admin(), json={**hook, "url": url_personal, "personal_data": True}
            )
            assert [w["id"] for w in (await province.ok("GET", "/notifications/v1/webhooks", admin(A)))["items"]] == [
                of_a["id"]
            ]
            assert len((await province.ok("GET", "/notifications/v1/webhooks", admin()))["items"]) == 3

            await push_late_dossiers(province)
            await receivers["personal"].wait_for(2)
            await receivers["all"].wait_for(2)
            await receivers["a"].wait_for(1)

    def bodies(name: str) -> dict[str, dict[str, Any]]:
        found = [json.loads(r.body) for r in receivers[name].requests]
        return {b["data"]["ma_ho_so"]: b["data"] for b in found}

    assert list(bodies("a")) == [KEY_A]  # B's overdue dossier never reached A's endpoint
    assert bodies("a")[KEY_A]["applicant"] == {
        "name": "T*** V*** B***",
        "address": "***",
        "phone": "0987***111",
        "email": "b***@example.vn",
    }
    assert sorted(bodies("all")) == sorted([KEY_A, KEY_B])
    assert not leaks(
        json.dumps([r.body.decode() for r in receivers["all"].requests], ensure_ascii=False), PERSONAL_A + PERSONAL_B
    )
    personal = bodies("personal")
    assert (
        personal[KEY_A]["applicant"]["name"] == "Trần Văn Bình"
        and personal[KEY_B]["applicant"]["phone"] == "0912555666"
    )


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every log line, as the services write them (JSON), at DEBUG."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {name: logging.getLogger(name).level for name in PRINT_DATA}
    configure_logging("DEBUG")
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    yield lines
    root.handlers[:], level, talkative = saved
    root.setLevel(level)
    for name, was in talkative.items():
        logging.getLogger(name).setLevel(was)


async def test_the_headline_flow_logs_no_personal_data(start, log_lines: io.StringIO):
    province = await start(notifications_webhook_retry_schedule=[0.05])
    receiver = Receiver((500, {}, b"down"), (200, {}, b"ok"), (200, {}, b"ok"))
    async with live_server(receiver.app()) as url:
        await province.ok(
            "POST",
            "/notifications/v1/webhooks",
            admin(),
            json={"event_types": ["*"], "url": url, "personal_data": True},
        )
        await push_late_dossiers(province)
        await receiver.wait_for(3)
    written = log_lines.getvalue()
    assert "letter" in written and len(written.splitlines()) > 10  # the flow did log (positive control)
    assert not leaks(written, PERSONAL_A + PERSONAL_B)
