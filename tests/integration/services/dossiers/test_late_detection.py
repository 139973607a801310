"""Late detection: due_soon at the apology deadline, overdue at the due instant, once each; the apology's new date."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from services.catalog import definitions
from services.dossiers.scheduler import sweep_all
from shared.bus.base import Message
from shared.clock import VN_TZ
from shared.events import CloudEvent
from shared.runtime import Runtime
from tests.integration.services.dossiers.conftest import Dossiers, example

RECORD = example("dongbohosomc.json")["data"][0]  # received 15/04/2024 09:15, due 16/04/2024 09:15
KEY = RECORD["MaHoSo"]
DEADLINE = datetime(2024, 4, 15, 9, 15, tzinfo=VN_TZ)
DUE = datetime(2024, 4, 16, 9, 15, tzinfo=VN_TZ)


async def at(d: Dossiers, instant: datetime, kind: str, count: int) -> list[dict]:
    """Move the clock, wake the scheduler, and wait (2 s at most) for ``count`` events of ``kind``."""
    d.clock.set(instant)
    d.runtime["dossiers"].schedulers["late_detection"].poke()
    for _ in range(200 if count else 20):
        events = await d.events(kind, KEY)
        if count and len(events) >= count:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # and nothing more arrives
    return await d.events(kind, KEY)


async def letter(d: Dossiers, new_due: datetime, letter_id: str) -> None:
    event = CloudEvent(
        source="/cchc/notifications",
        type="vn.cchc.letter.issued.v1",
        time=d.clock.now(),
        subject=KEY,
        data={
            "letter_id": letter_id,
            "number": f"{letter_id}/PXL",
            "ma_ho_so": KEY,
            "issued_at": d.clock.now().isoformat(),
            "new_due_at": new_due.isoformat(),
        },
    )
    await d.runtime.bus.publish([Message(topic="cchc.notifications", key=KEY, value=event.to_json().encode())])


async def test_due_soon_then_overdue_each_once_at_their_instants(dossiers: Dossiers):
    await dossiers.push([RECORD])
    assert await at(dossiers, DEADLINE - timedelta(seconds=1), "dossier.due_soon", 0) == []
    [due_soon] = await at(dossiers, DEADLINE, "dossier.due_soon", 1)
    assert datetime.fromisoformat(due_soon["data"]["apology_deadline"]) == DEADLINE
    assert (await dossiers.get(KEY))["timeliness"] == "open_due_soon"
    assert await at(dossiers, DUE - timedelta(seconds=1), "dossier.overdue", 0) == []
    [overdue] = await at(dossiers, DUE, "dossier.overdue", 1)
    assert overdue["data"]["procedure"]["name"] == "Đăng ký khai sinh" and overdue["data"]["rule_set"] == "nd61_2018"
    assert (await dossiers.get(KEY))["timeliness"] == "open_overdue"
    assert len(await at(dossiers, DUE + timedelta(days=3), "dossier.overdue", 0)) == 1
    assert len(await dossiers.events("dossier.due_soon")) == 1


async def test_a_paused_dossier_rings_no_alarm_until_it_resumes(dossiers: Dossiers):
    await dossiers.push([{**RECORD, "TrangThaiHoSo": 5}])
    assert await at(dossiers, DUE + timedelta(hours=1), "dossier.overdue", 0) == []
    step = {"MaHoSo": KEY, "ThoiDiemXuLy": (DUE + timedelta(hours=1)).strftime("%Y%m%d%H%M%S"), "TrangThai": 4}
    resumed = await dossiers.push([step], service="CapNhatTienDoHoSoMC")  # positive control: the clock runs again
    assert resumed["updated"] == 1, resumed
    # The province's NgayHenTra stands (its system moves it, not ours): past it, the alarm rings at once.
    assert len(await at(dossiers, DUE + timedelta(hours=1, seconds=1), "dossier.overdue", 1)) == 1


async def test_replicas_sweeping_the_same_instant_fire_each_alarm_once(start_dossiers, make_settings):
    first = await start_dossiers(now=DUE - timedelta(days=1))
    records = [{**RECORD, "MaHoSo": f"000.00.12.H42-240415-{n:04d}"} for n in range(1, 301)]
    await first.push(records)
    for _ in range(300):  # the running scheduler rings their due_soon first (they arrive on the deadline)
        if len(await first.events("dossier.due_soon")) == 300:
            break
        await asyncio.sleep(0.01)
    replicas = [
        Runtime(definitions(["dossiers"]), await make_settings("dossiers"), clock=first.clock) for _ in range(3)
    ]
    try:
        first.clock.set(DUE)
        await asyncio.gather(
            *(sweep_all(r["dossiers"], DUE) for r in replicas), sweep_all(first.runtime["dossiers"], DUE)
        )
        for _ in range(200):  # the service's own scheduler may be the one sweeping some of them
            overdue = await first.events("dossier.overdue")
            if len(overdue) >= 300:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        overdue = await first.events("dossier.overdue")
        assert len(overdue) == 300 and len({e["subject"] for e in overdue}) == 300
    finally:
        for replica in replicas:
            await replica.stop()


async def test_an_apology_moves_the_due_date_once_and_a_second_miss_escalates(dossiers: Dossiers):
    await dossiers.push([RECORD])
    await at(dossiers, DEADLINE, "dossier.due_soon", 1)
    new_due = datetime(2024, 4, 18, 17, tzinfo=VN_TZ)
    await letter(dossiers, new_due, "L1")
    await letter(dossiers, new_due + timedelta(days=7), "L2")  # a second letter changes nothing
    d = await dossiers.get(KEY)
    assert datetime.fromisoformat(d["due_at"]) == new_due and d["apology"]["letter_id"] == "L1"
    assert d["due_history"][-1]["reason"] == "apology"
    [rescheduled] = await dossiers.events("dossier.rescheduled", KEY)
    assert rescheduled["data"]["reason"] == "apology"
    assert await at(dossiers, DUE + timedelta(hours=1), "dossier.overdue", 0) == []  # the old due no longer rings
    [escalated] = await at(dossiers, new_due, "dossier.overdue_after_apology", 1)
    assert escalated["data"]["apology_letter_id"] == "L1"
    assert await dossiers.events("dossier.overdue") == []
    finished = {**RECORD, "TrangThaiHoSo": 9, "NgayKetThucXuLy": "20240417100000"}
    await dossiers.push([finished])
    assert (await dossiers.get(KEY))["timeliness"] == "late"  # judged against the due time before the apology


async def test_a_dossier_waiting_for_the_applicant_is_judged_as_it_stood_when_asked(start_dossiers):
    """Its due time moves by the wait when the applicant answers: past the old one it is not overdue."""
    d = await start_dossiers(now=DUE + timedelta(days=2))

    def waiting(seq: int, asked: str) -> dict:
        supplement = {"HoSoBoSungId": f"BS{seq}", "NgayBoSung": asked, "NgayHenTraTruoc": RECORD["NgayHenTra"]}
        return {**RECORD, "MaHoSo": f"{KEY[:-4]}{seq:04d}", "TrangThaiHoSo": 5, "DanhSachHoSoBoSung": [supplement]}

    on_track, asked_late = waiting(1, "20240415100000"), waiting(2, "20240416100000")  # before / after the due time
    await d.push([on_track, asked_late])
    assert (await d.get(on_track["MaHoSo"]))["timeliness"] == "open_due_soon"  # 10:00 on 15/04: past the deadline
    assert (await d.get(asked_late["MaHoSo"]))["timeliness"] == "open_overdue"  # asked once already late
