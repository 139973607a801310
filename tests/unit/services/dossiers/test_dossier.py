"""The dossier declared once: its fields are the table's columns, and the aggregate records its events."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.dossiers import models, views
from services.dossiers.codes import Origin, Status
from services.dossiers.dossier import COLUMNS, RECORD_FIELDS, SHOWN, Dossier, history_entry
from services.dossiers.events import DossierReceived, DossierRescheduled, DossierResolved, DossierStatusChanged
from services.dossiers.schemas import DossierOut
from shared.calendar import WorkingCalendar
from shared.clock import VN_TZ

CALENDAR = WorkingCalendar()


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


RECEIVED = vn(2024, 5, 13, 9)  # a Monday


def received_here() -> Dossier:
    return Dossier(
        ma_ho_so="000.00.12.H42-240513-0001",
        origin=Origin.intake.value,
        agency="000.00.12.H42",
        unit_code="000.00.12.H42",
        ma_tthc="1.004227",
        channel=1,
        status=int(Status.received),
        received_at=RECEIVED,
        due_at=vn(2024, 5, 20, 9),
        rule_set="nd61_2018",
        status_history=[history_entry(int(Status.received), RECEIVED, "intake")],
        state_at=RECEIVED,
    )


def test_the_declared_fields_are_the_tables_columns_in_its_order():
    assert list(COLUMNS) == [column.name for column in models.Dossier.__table__.columns]


def test_a_view_reads_the_shown_fields_and_a_sync_writes_the_record_fields_only():
    assert views.COLUMNS == SHOWN and "content_hash" not in SHOWN and "due_history" in SHOWN
    assert {"timeliness", "due_history", "apology", "version"}.isdisjoint(RECORD_FIELDS)
    assert {"status", "due_at", "pauses", "content_hash"} <= set(RECORD_FIELDS)
    assert "unit" in DossierOut.model_fields  # the view renames unit_code; the GraphQL type follows the view


def test_a_row_round_trips_without_the_events():
    dossier = received_here()
    dossier.open(RECEIVED, CALENDAR)
    row = dossier.to_row()
    assert list(row) == list(COLUMNS) and "events" not in row
    again = Dossier.from_row(row)
    assert again.to_row() == row and again.events == []
    assert [type(e) for e in dossier.events] == [DossierReceived]


def test_a_supplement_pauses_the_clock_and_its_arrival_moves_the_due_time_by_the_pause():
    dossier = received_here()
    dossier.open(RECEIVED, CALENDAR)
    dossier.collect_events()
    asked, arrived = vn(2024, 5, 14, 9), vn(2024, 5, 16, 9)  # two working days later
    dossier.change_status(Status.awaiting_supplement, asked, asked, CALENDAR, source="intake", details={})
    assert dossier.supplement_count == 1 and dossier.alarm_at is None  # paused: no alarm rings
    dossier.change_status(Status.processing, arrived, arrived, CALENDAR, source="intake", details={})
    events = dossier.collect_events()
    assert [type(e) for e in events] == [DossierStatusChanged, DossierStatusChanged, DossierRescheduled]
    assert dossier.due_at == vn(2024, 5, 22, 9) and events[-1].new_due_at == dossier.due_at
    assert dossier.pauses[-1]["working_seconds"] == int(timedelta(hours=16).total_seconds())
    assert [c["reason"] for c in dossier.due_history] == ["initial", "supplement"]


def test_finishing_judges_it_once_and_a_copy_leaves_the_original_as_it_was():
    dossier = received_here()
    dossier.open(RECEIVED, CALENDAR)
    copy = dossier.copy()
    done = vn(2024, 5, 17, 9)
    copy.change_status(Status.processed, done, done, CALENDAR, source="intake", details={"actor": "A"})
    resolved = copy.events[-1]
    assert isinstance(resolved, DossierResolved) and resolved.timeliness == "early" and resolved.on_time
    assert copy.finished_at == done and copy.version == 2
    assert dossier.status == int(Status.received) and dossier.finished_at is None and dossier.version == 1
    assert [type(e) for e in dossier.events] == [DossierReceived]


def test_the_apology_is_recorded_once():
    dossier = received_here()
    dossier.open(RECEIVED, CALENDAR)
    dossier.collect_events()
    letter = {"letter_id": "L1", "number": "1/PXL", "issued_at": RECEIVED.isoformat()}
    assert dossier.record_apology(letter, vn(2024, 5, 27, 9), RECEIVED, CALENDAR)
    assert not dossier.record_apology({**letter, "letter_id": "L2"}, vn(2024, 6, 3, 9), RECEIVED, CALENDAR)
    assert dossier.due_at == vn(2024, 5, 27, 9) and dossier.apology is not None and dossier.apology["letter_id"] == "L1"
    assert [(type(e), e.reason) for e in dossier.collect_events()] == [(DossierRescheduled, "apology")]
    assert dossier.judged_due == vn(2024, 5, 20, 9)  # judged against the date before the apology
