"""Reminders from plans, dossiers and scoring events: once per (subject, kind, due), throttled, digested."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from services.notifications.channels.models import Delivery
from services.notifications.reminders.models import Reminder
from services.notifications.reminders.worker import run_once
from shared.clock import VN_TZ
from tests.support.notifications import UNIT, lateness

DUE_SOON, OVERDUE = "vn.cchc.task.due_soon.v1", "vn.cchc.task.overdue.v1"
CONTACTS = f"/notifications/v1/recipients/{UNIT}/contacts"


def task(due: str = "2025-03-10", offset: int = 5, role: str = "lead", obligation: int = 7) -> dict:
    return {
        "obligation_id": obligation,
        "task_id": 3,
        "task_label": "1.2",
        "task_title": "Rà soát thủ tục hành chính",
        "plan_id": 1,
        "plan_number": "15/KH-UBND",
        "unit_code": UNIT,
        "role": role,
        "due": due,
        "offset_days": offset,
        "occurrence_id": 11,
    }


async def unit_with_people(service) -> None:
    await service.register_unit()
    for person in (
        {"name": "Chủ tịch", "email": "ct@camquang.gov.vn", "phone": "0912345678", "channels": ["email", "sms"]},
        {"name": "Văn phòng", "zalo_phone": "0387123456"},
    ):
        assert (await service.http.post(CONTACTS, json=person)).status_code == 201


async def sent(service) -> list[Delivery]:
    async with service.context.db.session() as session:
        return list((await session.scalars(select(Delivery).order_by(Delivery.id))).all())


async def reminders(service) -> int:
    async with service.context.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Reminder)) or 0)


async def dispatch(service) -> None:
    await run_once(service.context, service.context.clock.now())


async def test_one_reminder_per_subject_kind_and_due_whatever_the_redeliveries(start_notifications, clock):
    service = await start_notifications(clock=clock)
    await unit_with_people(service)
    first = await service.deliver("cchc.plans", DUE_SOON, "7", task())
    await service.deliver("cchc.plans", DUE_SOON, "7", task(), event_id=first.id)  # the bus delivers it again
    for _ in range(2):
        await service.deliver("cchc.plans", DUE_SOON, "7", task())  # the producer sends it again (a new event id)
    await dispatch(service)
    await dispatch(service)
    once = await sent(service)
    assert sorted((d.channel, d.to) for d in once) == [
        ("email", "ct@camquang.gov.vn"),
        ("sms", "+84912345678"),
        ("zalo", "+84387123456"),
    ]
    assert {d.subject for d in once} == {"Nhắc việc: còn 5 ngày làm việc đến hạn"}
    assert "nhiệm vụ 1.2. Rà soát thủ tục hành chính (kế hoạch số 15/KH-UBND) đến hạn ngày 10/03/2025" in once[0].text
    assert await reminders(service) == 1

    # positive controls: another offset, another due date, the overdue kind each remind once more
    await service.deliver("cchc.plans", DUE_SOON, "7", task(offset=1))
    await service.deliver("cchc.plans", DUE_SOON, "7", task(due="2025-06-10"))
    await service.deliver("cchc.plans", OVERDUE, "7", task(offset=1))
    await service.deliver("cchc.plans", OVERDUE, "7", task(offset=1))
    await dispatch(service)
    assert await reminders(service) == 4 and len(await sent(service)) == 12
    assert any(d.subject == "Nhiệm vụ quá hạn" and "đã quá hạn ngày 10/03/2025" in d.text for d in await sent(service))


async def test_a_coordinating_unit_s_obligation_makes_no_reminder(start_notifications, clock):
    service = await start_notifications(clock=clock)
    await unit_with_people(service)
    await service.deliver("cchc.plans", DUE_SOON, "8", task(role="coordinating", obligation=8))
    await dispatch(service)
    assert await reminders(service) == 0 and await sent(service) == []
    await service.deliver("cchc.plans", DUE_SOON, "7", task(role="lead"))  # positive control
    await dispatch(service)
    assert await reminders(service) == 1 and len(await sent(service)) == 3


async def test_the_handling_unit_hears_that_the_apology_is_due_today(start_notifications, clock):
    service = await start_notifications(clock=clock)
    await unit_with_people(service)
    data = lateness(
        "000.00.12.H42-250303-0001", UNIT, "2025-03-04T16:30:00+07:00", apology_deadline="2025-03-03T16:30:00+07:00"
    )
    for _ in range(3):
        await service.deliver("cchc.dossiers", "vn.cchc.dossier.due_soon.v1", data["ma_ho_so"], data)
    await dispatch(service)
    messages = await sent(service)
    assert len(messages) == 3 and {d.subject for d in messages} == {
        "Hạn xin lỗi hôm nay: hồ sơ 000.00.12.H42-250303-0001"
    }
    text = messages[0].text
    assert "(Đăng ký khai sinh) đến hạn trả kết quả lúc 16:30 ngày 04/03/2025" in text
    assert "Hạn gửi văn bản xin lỗi: 16:30 ngày 03/03/2025" in text
    assert "Nguyễn Văn A" not in text  # officers get the dossier, not the applicant's details


async def test_a_dossier_late_again_after_its_apology_is_reported_to_the_units_head_once(start_notifications, clock):
    service = await start_notifications(clock=clock)
    await unit_with_people(service)
    escalation = {
        "ma_ho_so": "000.00.12.H42-250303-0001",
        "unit": UNIT,
        "letter_id": "L1",
        "number": "7/PXL",
        "promised_due_at": "2025-03-10T16:30:00+07:00",
        "missed_due_at": "2025-03-04T16:30:00+07:00",
        "escalated_at": "2025-03-10T16:30:00+07:00",
    }
    for _ in range(3):  # redelivered: still one report per contact channel
        await service.deliver("cchc.notifications", "vn.cchc.letter.escalated.v1", escalation["ma_ho_so"], escalation)
    await dispatch(service)
    messages = await sent(service)
    assert len(messages) == 3 and {d.subject for d in messages} == {
        "Báo cáo Thủ trưởng: hồ sơ 000.00.12.H42-250303-0001 trễ hạn sau khi đã xin lỗi"
    }
    assert "đã hẹn trả lại lúc 16:30 ngày 10/03/2025 theo văn bản xin lỗi số 7/PXL" in messages[0].text


async def test_target_at_risk_is_read_tolerantly(start_notifications, clock):
    service = await start_notifications(clock=clock)
    await unit_with_people(service)
    await service.deliver(
        "cchc.scoring",
        "vn.cchc.target.at_risk.v1",
        UNIT,
        {"unit": UNIT, "period": "2025-Q1", "code": "dossiers.on_time_rate", "value": 87.5, "target": 95, "extra": 1},
    )
    await service.deliver(
        "cchc.scoring",
        "vn.cchc.target.at_risk.v1",
        UNIT,  # the same, under other field names: once
        {
            "unit_code": UNIT,
            "period": "2025-Q1",
            "metric_code": "dossiers.on_time_rate",
            "value": 88,
            "target_value": 95,
        },
    )
    await dispatch(service)
    messages = await sent(service)
    assert len(messages) == 3 and await reminders(service) == 1
    assert messages[0].subject == "Chỉ tiêu có nguy cơ không đạt: dossiers.on_time_rate"
    assert "kỳ 2025-Q1: chỉ tiêu dossiers.on_time_rate hiện đạt 87,5, mục tiêu 95." in messages[0].text


async def test_throttled_reminders_wait_for_the_daily_digest_which_goes_once(start_notifications, clock):
    service = await start_notifications(clock=clock, notifications_reminder_max_per_hour=2, notifications_digest_hour=7)
    await service.register_unit()
    await service.http.post(CONTACTS, json={"name": "Chủ tịch", "phone": "0912345678", "channels": ["sms"]})
    for obligation in (1, 2, 3):
        await service.deliver("cchc.plans", DUE_SOON, str(obligation), task(obligation=obligation))
    scheduler = service.context.schedulers["reminders"]
    next_due = await scheduler.run_once()
    assert len(await sent(service)) == 2  # the third is held: two in the last hour already
    assert next_due == datetime(2025, 3, 4, 7, 0, tzinfo=VN_TZ)  # the worker sleeps until the digest

    clock.set(datetime(2025, 3, 4, 6, 59, tzinfo=VN_TZ))
    await scheduler.run_once()
    assert len(await sent(service)) == 2
    clock.set(datetime(2025, 3, 4, 7, 0, tzinfo=VN_TZ))
    assert await scheduler.run_once() is None
    await scheduler.run_once()
    digests = (await sent(service))[2:]
    assert len(digests) == 1 and digests[0].ref_kind == "digest"
    assert digests[0].subject == "Tổng hợp nhắc việc ngày 04/03/2025"
    assert digests[0].text.count("Rà soát thủ tục hành chính") == 1 and len(digests[0].text) <= 335

    clock.advance(timedelta(minutes=30))  # the first two are a day old: immediate again
    await service.deliver("cchc.plans", DUE_SOON, "4", task(obligation=4))
    await scheduler.run_once()
    assert len(await sent(service)) == 4


async def test_a_contact_who_asked_for_a_digest_gets_one_message_a_day(start_notifications, clock):
    service = await start_notifications(clock=clock)
    await service.register_unit()
    await service.http.post(CONTACTS, json={"name": "Văn phòng", "email": "vp@camquang.gov.vn", "digest": True})
    for obligation in range(1, 31):
        await service.deliver("cchc.plans", DUE_SOON, str(obligation), task(obligation=obligation))
    await dispatch(service)
    assert await sent(service) == []
    clock.set(datetime(2025, 3, 4, 7, 0, tzinfo=VN_TZ))
    await dispatch(service)
    await dispatch(service)
    [digest] = await sent(service)
    assert digest.channel == "email" and "(30 nội dung)" in digest.text and digest.text.count("\n- ") == 30


async def test_a_withdrawn_task_s_held_reminders_leave_the_digest(start_notifications, clock):
    service = await start_notifications(clock=clock)
    await service.register_unit()
    await service.http.post(CONTACTS, json={"name": "Văn phòng", "email": "vp@camquang.gov.vn", "digest": True})
    for obligation in (1, 2):
        await service.deliver("cchc.plans", DUE_SOON, str(obligation), task(obligation=obligation))
    await dispatch(service)
    withdrawn = {"obligation_id": 2, "task_id": 3, "plan_id": 1, "unit_code": UNIT, "role": "lead"}
    await service.deliver(
        "cchc.plans",
        "vn.cchc.task.withdrawn.v1",
        "2",
        {
            **withdrawn,
            "reason": "task_removed",
            "withdrawn_at": "2025-03-03T10:00:00+07:00",
            "open_occurrence_ids": [11],
        },
    )
    clock.set(datetime(2025, 3, 4, 7, 0, tzinfo=VN_TZ))
    await dispatch(service)
    [digest] = await sent(service)
    assert "(1 nội dung)" in digest.text and digest.text.count("\n- ") == 1  # obligation 1's alone
