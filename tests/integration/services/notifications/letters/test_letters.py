"""Apology letters from the dossier events: one per (dossier, missed due date), the unit's policy,
numbering, the status machine and its refusals, escalation instead of a second letter."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from services.notifications.letters import batch
from services.notifications.letters.numbering import next_number
from services.notifications.letters.schemas import LatenessIn
from shared.bus.base import Message
from shared.clock import VN_TZ
from shared.events import CloudEvent
from tests.integration.services.notifications.letters.conftest import (
    DUE,
    KEY,
    SETTINGS,
    UNIT,
    Notifications,
    lateness,
    pdf_text,
)

NEW_DUE_5_DAYS = datetime(2024, 4, 24, 9, 16, tzinfo=VN_TZ)  # 5 working days from now (16/04 09:16); Giỗ Tổ (18/04) off


async def test_overdue_makes_one_draft_letter_whatever_the_redeliveries(notifications: Notifications):
    for _ in range(3):  # the same fact published again (new event ids: a resend, a replica)
        await notifications.deliver("overdue", lateness())
    [letter] = await notifications.letters()
    assert letter["status"] == "draft" and letter["number"] is None  # no settings: an officer approves
    assert letter["regime"] == "tt01_2018" and letter["regime_title"] == "Phiếu xin lỗi và hẹn lại ngày trả kết quả"
    assert datetime.fromisoformat(letter["missed_due_at"]) == DUE
    assert datetime.fromisoformat(letter["new_due_at"]) == NEW_DUE_5_DAYS
    assert letter["template"] == {"id": "tt01_2018", "version": 1}
    assert await notifications.events("letter.issued") == []
    assert await notifications.dead_letters() == []


async def test_auto_issue_numbers_the_letter_and_announces_the_new_date(notifications: Notifications):
    await notifications.configure(auto_issue=True, extension_working_days=3)
    await notifications.deliver("overdue", lateness())
    [letter] = await notifications.letters()
    assert letter["status"] == "issued" and letter["number"] == "1/PXL"
    [event] = await notifications.events("letter.issued", KEY)
    data = event["data"]
    assert data["ma_ho_so"] == KEY and data["letter_id"] == letter["id"] and data["number"] == "1/PXL"
    assert datetime.fromisoformat(data["new_due_at"]) == datetime(2024, 4, 22, 9, 16, tzinfo=VN_TZ)
    assert datetime.fromisoformat(data["issued_at"]) == notifications.clock.now()

    await notifications.deliver("overdue", lateness())  # redelivered after the issue
    assert len(await notifications.letters()) == 1 and len(await notifications.events("letter.issued")) == 1


async def test_the_pdf_is_the_official_form_with_every_diacritic(notifications: Notifications):
    await notifications.configure(auto_issue=True)
    await notifications.deliver("overdue", lateness())
    [letter] = await notifications.letters()
    response = await notifications.client.get(f"/notifications/v1/letters/{letter['id']}.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = " ".join(pdf_text(response.content).split())
    for expected in (
        "UBND HUYỆN CẨM XUYÊN",
        "ỦY BAN NHÂN DÂN XÃ CẨM QUANG",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 1/PXL",
        "Cẩm Quang, ngày 16 tháng 4 năm 2024",
        "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
        "Kính gửi: Ông/Bà Nguyễn Thị Hồng",
        "Đăng ký khai sinh",
        KEY,
        "hẹn trả kết quả 09 giờ 15 phút, ngày 16/04/2024",
        "hẹn lại thời gian trả kết quả vào 09 giờ 16 phút, ngày 24/04/2024",
        "Nơi nhận:",
        "KT. CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
        "Trần Văn Đức",
    ):
        assert expected in text, expected


async def test_a_dossier_received_under_the_new_decree_gets_the_new_form(notifications: Notifications):
    received, due = datetime(2025, 7, 1, 8, 0, tzinfo=VN_TZ), datetime(2025, 7, 8, 8, 0, tzinfo=VN_TZ)
    notifications.clock.set(due + timedelta(minutes=5))
    await notifications.configure(auto_issue=True)
    await notifications.deliver("overdue", lateness(received=received, due=due))
    [letter] = await notifications.letters()
    assert letter["regime"] == "tt03_2025" and letter["template"] == {"id": "tt03_2025", "version": 1}
    pdf = (await notifications.client.get(f"/notifications/v1/letters/{letter['id']}.pdf")).content
    text = " ".join(pdf_text(pdf).split())
    assert "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT" in text
    assert "đề nghị gia hạn thời gian giải quyết hồ sơ đến" in text


async def test_an_applicant_name_with_typst_markup_prints_as_written(notifications: Notifications):
    await notifications.configure(auto_issue=True)
    name = 'Lê #strong[Văn] $x^2$ *B* _c_ <l> @ref \\ #import "/etc/passwd": *'
    await notifications.deliver(
        "overdue", lateness(applicant={"name": name, "address": None, "phone": None, "email": None})
    )
    [letter] = await notifications.letters()
    pdf = (await notifications.client.get(f"/notifications/v1/letters/{letter['id']}.pdf")).content
    assert f"Kính gửi: Ông/Bà {name}" in pdf_text(pdf)


async def test_an_issued_letter_renders_as_issued_after_the_settings_change(notifications: Notifications):
    await notifications.configure(auto_issue=True)
    await notifications.deliver("overdue", lateness())
    [letter] = await notifications.letters()
    before = (await notifications.client.get(f"/notifications/v1/letters/{letter['id']}.pdf")).content
    await notifications.configure(signer_name="Lê Thị Mai", place_name="Cẩm Xuyên")
    after = (await notifications.client.get(f"/notifications/v1/letters/{letter['id']}.pdf")).content
    assert after == before and "Trần Văn Đức" in pdf_text(after)


async def test_due_soon_prepares_a_draft_that_the_overdue_issues(notifications: Notifications):
    notifications.clock.set(DUE - timedelta(days=1))
    await notifications.configure(auto_issue=True)
    await notifications.deliver("due_soon", lateness(apology_deadline=(DUE - timedelta(days=1)).isoformat()))
    [draft] = await notifications.letters()
    assert draft["status"] == "draft" and draft["origin"] == "due_soon"
    notifications.clock.set(DUE + timedelta(minutes=1))
    await notifications.deliver("overdue", lateness())
    [letter] = await notifications.letters()
    assert letter["id"] == draft["id"] and letter["status"] == "issued"


async def test_a_unit_that_wants_no_draft_on_due_soon_gets_none_until_overdue(notifications: Notifications):
    await notifications.configure(draft_on_due_soon=False)
    await notifications.deliver("due_soon", lateness(apology_deadline=(DUE - timedelta(days=1)).isoformat()))
    assert await notifications.letters() == []
    await notifications.deliver("overdue", lateness())  # positive control
    assert len(await notifications.letters()) == 1


async def test_late_again_after_the_apology_escalates_once_and_writes_no_second_letter(notifications: Notifications):
    await notifications.configure(auto_issue=True)
    await notifications.deliver("overdue", lateness())
    [letter] = await notifications.letters()
    promised = datetime.fromisoformat(letter["new_due_at"])
    notifications.clock.set(promised + timedelta(minutes=1))
    after = lateness(due=promised, apology_letter_id=letter["id"], original_due_at=DUE.isoformat())
    for _ in range(2):
        await notifications.deliver("overdue_after_apology", after)
    await notifications.deliver("overdue", lateness(due=promised))  # even told it as a plain overdue
    [same] = await notifications.letters()
    assert same["id"] == letter["id"] and same["escalated_at"] is not None
    [escalation] = await notifications.events("letter.escalated", KEY)
    assert escalation["data"]["letter_id"] == letter["id"] and escalation["data"]["number"] == "1/PXL"
    assert datetime.fromisoformat(escalation["data"]["promised_due_at"]) == promised
    assert len(await notifications.events("letter.issued")) == 1


async def letter_url(notifications: Notifications) -> str:
    """The address of the draft letter an overdue dossier's lateness makes."""
    await notifications.deliver("overdue", lateness())
    [letter] = await notifications.letters()
    return f"/letters/{letter['id']}"


async def test_the_status_machine_and_its_refusals(notifications: Notifications):
    url = await letter_url(notifications)
    early = await notifications.post(url + ":issue")
    assert early.status_code == 409 and early.json()["allowed_transitions"] == ["approved"]
    approved = await notifications.post(url + ":approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    issued = await notifications.post(url + ":issue")
    assert issued.json()["status"] == "issued" and issued.json()["number"] == "1/PXL"
    again = await notifications.post(url + ":approve")
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert again.json()["code"] == "wrong_transition" and again.json()["allowed_transitions"] == ["delivered", "failed"]
    assert "delivered, failed" in again.json()["detail"]
    failed = await notifications.post(url + ":fail", json={"reason": "Thư điện tử bị trả lại"})
    assert failed.json()["status"] == "failed" and failed.json()["failure_reason"] == "Thư điện tử bị trả lại"
    delivered = await notifications.post(url + ":deliver")
    assert delivered.json()["status"] == "delivered"
    final = await notifications.post(url + ":fail", json={"reason": "x"})
    assert final.status_code == 409 and final.json()["detail"].endswith("allowed: none.")


async def test_an_unknown_letter_is_not_found(notifications: Notifications):
    await letter_url(notifications)  # a letter exists: only the unknown id is missing
    missing = await notifications.post("/letters/nope:approve")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


async def test_a_failure_without_its_reason_is_refused_by_field_and_changes_nothing(notifications: Notifications):
    url = await letter_url(notifications)
    bad = await notifications.post(url + ":fail", json={})
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["body.reason"]
    [letter] = await notifications.letters()
    assert letter["status"] == "draft"


async def test_the_print_queue_lists_paper_letters_until_handed_over(notifications: Notifications):
    await notifications.configure(auto_issue=True)
    await notifications.deliver("overdue", lateness("000.00.15.H10-240415-0002", channel=1))
    queue = (await notifications.client.get("/notifications/v1/letters/print-queue", params={"unit": UNIT})).json()[
        "items"
    ]
    assert [x["ma_ho_so"] for x in queue] == ["000.00.15.H10-240415-0002"]
    handed = await notifications.post(f"/letters/{queue[0]['id']}:deliver")
    assert handed.json()["status"] == "delivered"
    assert (await notifications.client.get("/notifications/v1/letters/print-queue")).json()["items"] == []


async def test_an_officer_writes_a_letter_early_for_a_dossier_seen_through_events(notifications: Notifications):
    notifications.clock.set(DUE - timedelta(days=1))
    unknown = await notifications.post("/letters", json={"dossier": "000.00.15.H10-240415-9999"})
    assert unknown.status_code == 404 and unknown.json()["errors"] == [
        {"field": "dossier", "message": "unknown dossier"}
    ]
    received = {k: v for k, v in lateness().items() if k != "applicant"}
    await notifications.deliver("received", {**received, "origin": "push"})
    body = {"dossier": KEY, "reason": "Cần xác minh thêm nơi cư trú của người được khai sinh."}
    created = await notifications.post("/letters", json=body)
    assert created.status_code == 201, created.text
    letter = created.json()
    assert letter["origin"] == "officer" and letter["status"] == "draft" and letter["reason"] == body["reason"]
    assert (await notifications.post("/letters", json=body)).json()["id"] == letter["id"]
    assert (await notifications.post("/letters", json=body)).status_code == 200
    invalid = await notifications.post("/letters", json={"dossier": KEY, "new_due_at": "2024-04-20T08:00:00"})
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "body.new_due_at"  # no time zone
    before_due = await notifications.post(
        "/letters", json={"dossier": KEY, "reason": "Cần xác minh thêm.", "new_due_at": "2024-04-16T08:00:00+07:00"}
    )
    assert before_due.status_code == 422 and before_due.json()["errors"] == [
        {"field": "new_due_at", "message": "not after the due date"}
    ]


async def test_short_texts_stay_within_their_limits(notifications: Notifications):
    await notifications.configure(
        auto_issue=True, issuing_body="Văn phòng Hội đồng nhân dân và Ủy ban nhân dân huyện Cẩm Xuyên, tỉnh Hà Tĩnh"
    )
    await notifications.deliver("overdue", lateness())
    [letter] = await notifications.letters()
    sms = (
        await notifications.client.get(f"/notifications/v1/letters/{letter['id']}/text", params={"channel": "sms"})
    ).json()
    assert len(sms["text"]) <= sms["limit"] == 160 and sms["text"].isascii()
    assert KEY in sms["text"] and "09:16 24/04/2024" in sms["text"]
    zalo = (
        await notifications.client.get(f"/notifications/v1/letters/{letter['id']}/text", params={"channel": "zalo"})
    ).json()
    assert len(zalo["text"]) <= 500 and "Nguyễn Thị Hồng" in zalo["text"] and "1/PXL" in zalo["text"]
    wrong = await notifications.client.get(f"/notifications/v1/letters/{letter['id']}/text", params={"channel": "fax"})
    assert wrong.status_code == 422


async def test_numbers_have_no_gaps_under_concurrent_issues(notifications: Notifications):
    keys = [f"000.00.15.H10-240415-{n:04d}" for n in range(1, 21)]
    for key in keys:
        await notifications.deliver("overdue", lateness(key))
    ids = [(await notifications.letters(key))[0]["id"] for key in keys]
    for letter_id in ids:
        assert (await notifications.post(f"/letters/{letter_id}:approve")).status_code == 200
    answers = await asyncio.gather(*(notifications.post(f"/letters/{letter_id}:issue") for letter_id in ids))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200]
    assert sorted(int(a.json()["number"].split("/")[0]) for a in answers) == list(range(1, 21))


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=False)
@pytest.mark.parametrize("draft_first", [False, True])
async def test_concurrent_creators_on_postgresql_make_one_letter_issued_once(start_notifications, backend, draft_first):
    notifications = await start_notifications()
    await notifications.configure(auto_issue=True)
    if draft_first:  # the due_soon draft exists: every replica finds it and would issue it
        await notifications.deliver("due_soon", lateness(apology_deadline=(DUE - timedelta(days=1)).isoformat()))
    facts = LatenessIn.model_validate(lateness())
    context = notifications.runtime["notifications"]

    async def replica() -> None:
        async with context.uow() as uow:
            batch.gather(uow, facts, overdue=True)  # what the consumer's handler does
            await uow.commit()

    await asyncio.gather(*(replica() for _ in range(12)))
    [letter] = await notifications.letters()
    assert letter["status"] == "issued" and letter["number"] == "1/PXL"
    assert len(await notifications.events("letter.issued")) == 1


async def test_concurrent_issues_of_one_letter_issue_it_once(notifications: Notifications):
    await notifications.deliver("overdue", lateness())
    [letter] = await notifications.letters()
    await notifications.post(f"/letters/{letter['id']}:approve")
    answers = await asyncio.gather(*(notifications.post(f"/letters/{letter['id']}:issue") for _ in range(8)))
    assert sorted(a.status_code for a in answers) == [200] + [409] * 7
    assert len(await notifications.events("letter.issued")) == 1


async def test_numbers_run_per_unit_and_year_and_a_rolled_back_issue_gives_its_number_back(
    notifications: Notifications,
):
    context = notifications.runtime["notifications"]
    async with context.uow() as uow:
        assert [await next_number(uow.session, UNIT, 2024) for _ in range(3)] == [1, 2, 3]
        await uow.rollback()
    async with context.uow() as uow:
        assert await next_number(uow.session, UNIT, 2024) == 1
        assert await next_number(uow.session, "000.00.16.H10", 2024) == 1
        assert await next_number(uow.session, UNIT, 2025) == 1
        assert await next_number(uow.session, UNIT, 2024) == 2
        await uow.commit()


async def test_a_malformed_event_is_set_aside_and_the_rest_of_the_batch_gets_letters(notifications: Notifications):
    good = [lateness(f"000.00.15.H10-240415-{n:04d}") for n in (1, 3)]
    bad = {k: v for k, v in lateness("000.00.15.H10-240415-0002").items() if k != "due_at"}
    events = [
        CloudEvent(
            source="/cchc/dossiers",
            type="vn.cchc.dossier.overdue.v1",
            time=notifications.clock.now(),
            subject=d["ma_ho_so"],
            data=d,
        )
        for d in (good[0], bad, good[1])
    ]
    await notifications.runtime.bus.publish(
        [Message(topic="cchc.dossiers", key=e.subject, value=e.to_json().encode()) for e in events]
    )
    assert [len(await notifications.letters(d["ma_ho_so"])) for d in (good[0], bad, good[1])] == [1, 0, 1]
    [dead] = await notifications.dead_letters()
    assert "due_at" in dead.error


async def test_two_letters_of_one_dossier_issued_at_once_make_one_apology(notifications: Notifications):
    """Two drafts of one dossier (its due date moved by a supplement request in between): whichever
    is issued first is the apology; the other is refused, even when both are issued at once."""
    notifications.clock.set(DUE - timedelta(days=1))
    await notifications.deliver("due_soon", lateness(apology_deadline=(DUE - timedelta(days=1)).isoformat()))
    later = DUE + timedelta(days=2)
    await notifications.deliver(
        "due_soon", lateness(due=later, apology_deadline=(later - timedelta(days=1)).isoformat())
    )
    drafts = await notifications.letters()
    assert len(drafts) == 2
    for draft in drafts:
        await notifications.post(f"/letters/{draft['id']}:approve")
    answers = await asyncio.gather(*(notifications.post(f"/letters/{d['id']}:issue") for d in drafts))
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    assert len(await notifications.events("letter.issued")) == 1


async def test_new_return_dates_follow_the_days_administrators_declare(notifications: Notifications):
    async def calendar(day: str, working: bool, **extra: object) -> None:
        data = {"date": day, "working": working, "reason": "Nghỉ bù", **extra}
        event = CloudEvent(
            source="/cchc/dossiers",
            type="vn.cchc.calendar.changed.v1",
            time=notifications.clock.now(),
            subject=day,
            data=data,
        )
        await notifications.runtime.bus.publish(
            [Message(topic="cchc.dossiers", key=day, value=event.to_json().encode())]
        )

    await calendar("2024-04-19", False)  # Friday off
    await calendar(
        "2024-04-22",
        False,
        unit="000.00.99.H10",
        office_hours={"windows": ["07:30-11:30"], "same_day_cutoff": "15:00", "set_on": None},
    )
    await notifications.deliver("overdue", lateness("000.00.15.H10-240415-0002"))
    [letter] = await notifications.letters("000.00.15.H10-240415-0002")
    assert datetime.fromisoformat(letter["new_due_at"]) == NEW_DUE_5_DAYS + timedelta(days=1)  # 17, 22, 23, 24, 25
    await calendar("2024-04-19", False, removed=True)  # withdrawn: the statutory calendar again
    await notifications.deliver("overdue", lateness("000.00.15.H10-240415-0003"))
    [letter] = await notifications.letters("000.00.15.H10-240415-0003")
    assert datetime.fromisoformat(letter["new_due_at"]) == NEW_DUE_5_DAYS


async def test_default_settings_issue_the_letters_of_units_without_their_own_under_their_own_name(
    notifications: Notifications,
):
    default = {**SETTINGS, "issuing_body": "Cơ quan mặc định", "auto_issue": True}
    answer = await notifications.client.put("/notifications/v1/letter-settings:default", json=default)
    assert answer.status_code == 200, answer.text
    await notifications.deliver("overdue", lateness("000.00.15.H10-240415-0007"))
    [letter] = await notifications.letters("000.00.15.H10-240415-0007")
    assert letter["status"] == "issued" and letter["number"] == "1/PXL"
    own = (await notifications.client.get(f"/notifications/v1/letter-settings/{UNIT}")).json()
    assert own["auto_issue"] is True and own["issuing_body"] == UNIT  # the directory does not know the unit here

    await notifications.configure(auto_issue=False)  # positive control: a unit's own settings win
    await notifications.deliver("overdue", lateness("000.00.15.H10-240415-0008"))
    [draft] = await notifications.letters("000.00.15.H10-240415-0008")
    assert draft["status"] == "draft"


async def test_the_settings_of_a_unit_the_directory_does_not_know_are_shown_even_with_a_one_character_code(
    notifications: Notifications,
):
    # the built-in settings name the unit by its code as issuing body, shorter than an officer may
    # type, and no signer: shown as they are (they used to answer 500)
    answer = await notifications.client.get("/notifications/v1/letter-settings/0")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["issuing_body"], answer.json()["signer_name"], answer.json()["configured"]) == (
        "0",
        "",
        False,
    )
