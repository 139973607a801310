"""The desk's domain operations: a dossier received here (MaHoSo issued, due time computed from the
procedure catalogue) and moved along its legal transitions. The provincial push and pull are
``ingest``'s, the deadlines ``late``'s."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.dossiers import lifecycle, store
from services.dossiers import rows as r
from services.dossiers.codes import PROGRESS_RANK, TRANSITIONS, Origin, Status
from services.dossiers.models import DossierSequence
from services.dossiers.office_hours import load_calendars
from services.dossiers.reference_data import get_procedure
from services.dossiers.rules import rule_set_at
from services.dossiers.schemas import IntakeIn, LegalTime, TransitionIn
from shared.calendar import DurationUnit
from shared.clock import VN_TZ
from shared.db import upsert
from shared.problems import Conflict, DomainError, NotFound
from shared.scope import WHOLE_SYSTEM, Scope
from shared.uow import UnitOfWork

CLOCK_SKEW = timedelta(minutes=5)  # an instant this far ahead of the server's clock is still "now"


async def next_ma_ho_so(uow: UnitOfWork, agency: str, received: datetime) -> str:
    """``<agency>-YYMMDD-NNNN``: a daily sequence per agency, gapless because the counter row is
    locked by the increment and rolls back with the intake that took it."""
    day = received.astimezone(VN_TZ).date()
    table = DossierSequence.__table__
    statement = (
        upsert(uow.session, table)
        .values(agency=agency, day=day, last=1)
        .on_conflict_do_update(index_elements=["agency", "day"], set_={"last": table.c.last + 1})
        .returning(table.c.last)
    )
    number = (await uow.session.execute(statement)).scalar_one()
    return f"{agency}-{day:%y%m%d}-{number:04d}"


async def receive(uow: UnitOfWork, data: IntakeIn, scope: Scope = WHOLE_SYSTEM) -> r.Row:
    """A dossier received at the desk of a unit in ``scope``."""
    unit = data.unit or data.agency
    scope.check(unit, f"No unit {unit} in your scope.", field="unit" if data.unit else "agency")
    now = uow.clock.now()
    received = data.received_at or now
    if received > now + CLOCK_SKEW:
        raise DomainError(
            "A dossier cannot be received in the future.", errors=[{"field": "received_at", "message": "is after now"}]
        )
    procedure = await get_procedure(uow.session, data.ma_tthc)
    calendar = (await load_calendars(uow.session)).of(unit)
    legal_time = LegalTime(
        amount=procedure.amount, unit=DurationUnit(procedure.unit), same_day=procedure.same_day_cutoff
    )
    due = calendar.add(received, legal_time.amount, legal_time.unit, same_day=legal_time.same_day)
    ma_ho_so = await next_ma_ho_so(uow, data.agency, received)
    documents = [
        {"TenTepDinhKem": d.name, "DuocSoHoa": int(d.digitised), "DuocTaiSuDung": int(d.reused)} for d in data.documents
    ]
    row: r.Row = {
        "ma_ho_so": ma_ho_so,
        "origin": Origin.intake.value,
        "agency": data.agency,
        "unit_code": unit,
        "ma_tthc": procedure.ma_tthc,
        "procedure_name": procedure.name,
        "field_code": procedure.field_code,
        "field_name": procedure.field_name,
        "channel": int(data.channel),
        "status": int(Status.received),
        "applicant_name": data.applicant.name,
        "applicant_id_number": data.applicant.id_number,
        "applicant_type": int(data.applicant.type),
        "applicant_code": None,
        "email": data.applicant.email,
        "phone": data.applicant.phone,
        "address": data.applicant.address,
        "summary": data.summary,
        "handling_unit_name": None,
        "submitted_place": None,
        "result_form": None,
        "submitted_at": received,
        "received_at": received,
        "due_at": due,
        "finished_at": None,
        "returned_at": None,
        "refused_at": None,
        "rule_set": rule_set_at(received).code,
        "supplement_count": 0,
        "digitised": int(any(d.digitised for d in data.documents)) if data.documents else None,
        "vneid_verified": None,
        "paid_online": data.paid_online,
        "documents": documents,
        "fees": [{"TenPhiLePhi": f["name"], "MaPhiLePhi": f.get("code"), "Gia": f["amount"]} for f in procedure.fees],
        "supplements": [],
        "result_papers": [],
        "extra": {},
        "status_history": [r.history_entry(int(Status.received), received, "intake")],
        "pauses": [],
        "state_at": received,
        "state_rank": PROGRESS_RANK[Status.received],
        "content_hash": "",
    }
    for event in lifecycle.create(row, now, calendar, legal_time):
        uow.emit(event)
    if not await store.insert_new(uow.session, [row]):
        raise Conflict(f"Dossier {ma_ho_so} already exists (synced from the provincial system).")
    return row


async def transition(uow: UnitOfWork, ma_ho_so: str, data: TransitionIn, scope: Scope = WHOLE_SYSTEM) -> r.Row:
    now = uow.clock.now()
    row = (await store.load_rows(uow.session, [ma_ho_so], scope=scope)).get(ma_ho_so)
    if row is None:
        raise NotFound(f"No dossier {ma_ho_so}.")
    if row["origin"] != Origin.intake:
        raise Conflict("This dossier is processed in the provincial system; its status arrives through the sync API.")
    current = Status(row["status"])
    allowed = sorted(TRANSITIONS[current])
    if data.to not in allowed:
        raise Conflict(
            f"A dossier in status {int(current)} ({current.label}) cannot move to {int(data.to)} ({data.to.label}).",
            errors=[{"field": "to", "message": "not a legal transition from the current status"}],
            current=int(current),
            allowed=[{"status": int(s), "label": s.label} for s in allowed],
        )
    at = data.at or now
    last = max((h["at"] for h in row["status_history"] if h["at"]), default=None)
    if at > now + CLOCK_SKEW or (last is not None and at < datetime.fromisoformat(last)):
        raise DomainError(
            "The transition time must lie between the previous status change and now.",
            errors=[{"field": "at", "message": f"must be between {last} and now"}],
        )
    calendar = (await load_calendars(uow.session)).of(row["unit_code"])
    details = {"actor": data.actor, "note": data.note}
    for event in lifecycle.change_status(row, data.to, at, now, calendar, source="intake", details=details):
        uow.emit(event)
    await store.update_rows(uow.session, [row])
    return row
