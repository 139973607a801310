"""The live demo's province: its history ends at the real now, nothing in it is late unless its
plan says so, its clock never runs ahead of the real one, and an hour of watching shows dossiers
falling due, going late and being resolved."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from shared.clock import VN_TZ, SystemClock
from simulator.catalogue import DEMO_PROCEDURES
from simulator.province import Province
from simulator.server import Options, build_province, create_app
from simulator.workload import Dossier, stamp

NOW = datetime(2026, 12, 6, 21, 40, 17, tzinfo=VN_TZ)  # a Sunday evening: the demo runs whenever one watches
FINISHED = {3, 7, 8, 9, 10}
AWAITING_SUPPLEMENT = 5  # the clock stands: its NgayHenTra moves when the applicant answers
DONE_AT = ("NgayNopHoSo", "NgayTiepNhan", "NgayKetThucXuLy", "NgayTra", "NgayTuChoi")  # instants of acts, not promises
SHORT = {p.ma_tthc for p in DEMO_PROCEDURES}


def demo(start: datetime | None, **changes: object) -> Options:
    fields = {"host": "127.0.0.1", "port": 0, "seed": 1, "rate": 120.0, "start": start, "demo": True}
    return Options(**{**fields, "push_to": None, "token": None, **changes})  # type: ignore[arg-type]


def planned(province: Province) -> list[Dossier]:
    return list(province._dossiers.values())


def finish(dossier: Dossier) -> datetime | None:
    return next((e.at for e in dossier.events if e.status in FINISHED), None)


def due(dossier: Dossier) -> datetime | None:
    text = dossier.state()["NgayHenTra"]
    return datetime.strptime(str(text), "%Y%m%d%H%M%S").replace(tzinfo=VN_TZ) if text else None


def test_the_history_ends_at_now_and_holds_nothing_from_the_future():
    province = build_province(demo(NOW - timedelta(days=2)), NOW)
    assert province.now == NOW
    assert province.arrived > 2 * 24 * 100  # about 120 an hour, day and night
    for code in province._dossiers:
        record = province.record(code)
        assert all(record[name] <= stamp(NOW) for name in DONE_AT if record[name]), code


def test_no_dossier_of_the_history_is_overdue_at_start_unless_its_plan_makes_it_late():
    province = build_province(demo(NOW - timedelta(days=2)), NOW)
    overdue = []
    for dossier in planned(province):
        record = province.record(dossier.code)
        running = record["TrangThaiHoSo"] not in FINISHED | {AWAITING_SUPPLEMENT}
        if running and record["NgayHenTra"] and str(record["NgayHenTra"]) < stamp(NOW):
            overdue.append(dossier)
    assert overdue, "the history has late dossiers still open (a positive control)"
    for dossier in overdue:
        assert (finish(dossier) or NOW) > due(dossier), dossier.code  # meant to be late


def test_minutes_of_watching_show_dossiers_due_soon_going_late_and_resolved():
    province = build_province(demo(NOW - timedelta(hours=6)), NOW)
    watched = NOW + timedelta(hours=1)
    before = province.arrived
    province.advance(watched)
    assert province.arrived - before >= 100  # arrivals: about two a minute
    short = [d for d in planned(province) if d.fields["MaTTHC"] in SHORT and d.submitted > NOW]
    falling_due = [d for d in short if (due(d) or watched) < watched]
    late = [d for d in falling_due if (finish(d) or watched) > due(d)]  # type: ignore[operator]
    resolved_late = [d for d in late if finish(d) and finish(d) <= watched]  # type: ignore[operator]
    assert len(falling_due) >= 10 and len(late) >= 3 and len(resolved_late) >= 1, (
        len(falling_due),
        len(late),
        len(resolved_late),
    )


def test_without_a_start_the_province_begins_now_and_the_served_clock_is_the_real_one():
    before = SystemClock().now()
    province = build_province(demo(None), before)
    assert province.arrived == 0 and province.now == before
    with TestClient(create_app(province, SystemClock())) as http:
        for _ in range(3):
            simulated = datetime.strptime(http.get("/").json()["simulated_now"], "%Y%m%d%H%M%S")
            assert simulated.replace(tzinfo=VN_TZ) <= SystemClock().now()


def test_the_applicant_of_a_short_procedure_answers_a_supplement_request_within_hours_not_days():
    province = build_province(demo(NOW - timedelta(days=2)), NOW)
    waits = [
        answer.at - request.at
        for dossier in planned(province)
        for request, answer in zip(dossier.events, dossier.events[1:], strict=False)
        if request.status == AWAITING_SUPPLEMENT and dossier.fields["MaTTHC"] in SHORT
    ]
    assert waits and max(waits) <= timedelta(hours=2)
