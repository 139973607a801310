"""The desk's domain operations: a dossier received here (MaHoSo issued, due time computed from the
procedure catalogue) and moved along its legal transitions. The provincial push and pull are
``sync``'s, the deadlines ``late``'s; the rules are the :class:`~services.dossiers.dossier.Dossier`'s."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from services.dossiers import store
from services.dossiers.codes import PROGRESS_RANK, TRANSITIONS, Origin, Status
from services.dossiers.dossier import APPLICANT, Dossier, history_entry
from services.dossiers.dvcqg import Document
from services.dossiers.models import DossierSequence
from services.dossiers.office_hours import load_calendars
from services.dossiers.reference_data import get_procedure
from services.dossiers.rules import rule_set_at
from services.dossiers.schemas import IntakeIn, LegalTime, TransitionIn
from shared.audit import changed
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


async def receive(uow: UnitOfWork, data: IntakeIn, scope: Scope = WHOLE_SYSTEM) -> Dossier:
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
        Document(TenTepDinhKem=d.name, DuocSoHoa=_flag(d.digitised), DuocTaiSuDung=_flag(d.reused))
        for d in data.documents
    ]
    applicant = {column: getattr(data.applicant, key) for key, column in APPLICANT.items()}
    dossier = Dossier(
        ma_ho_so=ma_ho_so,
        origin=Origin.intake.value,
        agency=data.agency,
        ma_tthc=procedure.ma_tthc,
        procedure_name=procedure.name,
        field_code=procedure.field_code,
        field_name=procedure.field_name,
        fees=[{"TenPhiLePhi": f["name"], "MaPhiLePhi": f.get("code"), "Gia": f["amount"]} for f in procedure.fees],
        unit_code=unit,
        channel=int(data.channel),
        status=int(Status.received),
        **{**applicant, "applicant_type": int(data.applicant.type)},
        summary=data.summary,
        submitted_at=received,
        received_at=received,
        due_at=due,
        rule_set=rule_set_at(received).code,
        digitised=int(any(d.digitised for d in data.documents)) if data.documents else None,
        paid_online=data.paid_online,
        documents=documents,
        status_history=[history_entry(int(Status.received), received, "intake")],
        state_at=received,
        state_rank=PROGRESS_RANK[Status.received],
    )
    dossier.open(now, calendar, legal_time)
    for event in dossier.collect_events():
        uow.emit(event)
    if not await store.insert_new(uow.session, [dossier]):
        raise Conflict(f"Dossier {ma_ho_so} already exists (synced from the provincial system).")
    uow.audit(
        "dossier.intake",
        "dossier",
        ma_ho_so,
        {"unit": unit, "procedure": procedure.ma_tthc, "channel": dossier.channel, "due_at": dossier.due_at},
    )
    return dossier


def _flag(value: bool) -> Literal[0, 1]:
    """A yes/no as the national format writes it."""
    return 1 if value else 0


async def transition(uow: UnitOfWork, ma_ho_so: str, data: TransitionIn, scope: Scope = WHOLE_SYSTEM) -> Dossier:
    now = uow.clock.now()
    dossier = (await store.load(uow.session, [ma_ho_so], scope=scope)).get(ma_ho_so)
    if dossier is None:
        raise NotFound(f"No dossier {ma_ho_so}.")
    if dossier.origin != Origin.intake:
        raise Conflict("This dossier is processed in the provincial system; its status arrives through the sync API.")
    current = Status(dossier.status)
    allowed = sorted(TRANSITIONS[current])
    if data.to not in allowed:
        raise Conflict(
            f"A dossier in status {int(current)} ({current.label}) cannot move to {int(data.to)} ({data.to.label}).",
            errors=[{"field": "to", "message": "not a legal transition from the current status"}],
            current=int(current),
            allowed=[{"status": int(s), "label": s.label} for s in allowed],
        )
    at = data.at or now
    last = max((h["at"] for h in dossier.status_history if h["at"]), default=None)
    if at > now + CLOCK_SKEW or (last is not None and at < datetime.fromisoformat(last)):
        raise DomainError(
            "The transition time must lie between the previous status change and now.",
            errors=[{"field": "at", "message": f"must be between {last} and now"}],
        )
    calendar = (await load_calendars(uow.session)).of(dossier.unit_code)
    details = {"actor": data.actor, "note": data.note}
    before = {"status": int(current), "due_at": dossier.due_at}
    dossier.change_status(data.to, at, now, calendar, source="intake", details=details)
    for event in dossier.collect_events():
        uow.emit(event)
    await store.save(uow.session, [dossier])
    uow.audit(
        "dossier.transition", "dossier", ma_ho_so, changed(before, {"status": int(data.to), "due_at": dossier.due_at})
    )
    return dossier
