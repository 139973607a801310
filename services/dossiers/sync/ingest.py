"""Upserting what the provincial system sends: idempotent by MaHoSo, order-tolerant, per-record results.

Whatever goes wrong with one record (its validation, or computing its row and events) rejects that
record alone; the batch goes on. Instants of things done may lie at most ``tolerance`` past now,
and one stored beyond that (before the bound existed) never makes a true update look stale.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from services.dossiers import store
from services.dossiers.codes import PROGRESS_RANK, Origin, Status
from services.dossiers.dossier import Dossier, iso
from services.dossiers.dvcqg import HoSo, ReadBatch, Rejected, TienDo, read_records
from services.dossiers.office_hours import load_calendars
from services.dossiers.sync.records import dossier_of
from services.dossiers.units import UnitRegistry, registry_of
from shared.calendar import WorkingCalendar
from shared.pacing import Pacer, paced
from shared.scope import WHOLE_SYSTEM, Scope
from shared.unit_calendars import UnitCalendars
from shared.uow import UnitOfWork


class Outcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    rejected = "rejected"


@dataclass
class RecordResult:
    index: int
    ma_ho_so: str | None
    result: Outcome
    errors: list[dict[str, str]] = field(default_factory=list)
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"index": self.index, "MaHoSo": self.ma_ho_so, "result": self.result.value}
        if self.errors:
            body["errors"] = self.errors
        if self.note:
            body["note"] = self.note
        return body


@dataclass
class Plan:
    """What one pass decided: dossiers to insert or update (their events recorded) and results by batch index."""

    inserts: list[tuple[Dossier, int]] = field(default_factory=list)  # with the record's index
    updates: list[Dossier] = field(default_factory=list)
    decided: list[Dossier] = field(default_factory=list)  # both, in the batch's order (their events' order)
    results: dict[int, RecordResult] = field(default_factory=dict)


DEFAULT_TOLERANCE = timedelta(days=1)


def audit_batch(uow: UnitOfWork, action: str, source: str, results: Sequence[RecordResult]) -> None:
    """One audit row for a pushed or pulled batch that stored something: how many records it
    created, updated, left unchanged or rejected (each dossier keeps the history of its changes)."""
    counts = Counter(result.result for result in results)
    if counts[Outcome.created] or counts[Outcome.updated]:
        uow.audit(action, "sync", source, {outcome.value: counts[outcome] for outcome in Outcome})


def rejected(items: list[Rejected]) -> list[RecordResult]:
    return [RecordResult(x.index, x.ma_ho_so, Outcome.rejected, x.errors) for x in items]


def unprocessable(index: int, key: str | None, error: Exception) -> RecordResult:
    """A record that passed validation but could not be processed: rejected alone, by the
    exception's kind (its message may quote personal data)."""
    message = f"the record could not be processed ({type(error).__name__}); check its dates and values"
    return RecordResult(index, key, Outcome.rejected, [{"field": "", "message": message}])


def out_of_scope(index: int, key: str | None, field: str) -> RecordResult:
    """A record about a unit outside the pushing principal's scope: rejected alone, as if the unit
    (or the dossier) did not exist."""
    message = "no such unit in this key's scope" if field == "DonViXuLy" else "unknown dossier"
    return RecordResult(index, key, Outcome.rejected, [{"field": field, "message": message}])


async def ingest_dossiers(
    uow: UnitOfWork, data: Sequence[Any], *, tolerance: timedelta = DEFAULT_TOLERANCE, scope: Scope = WHOLE_SYSTEM
) -> list[RecordResult]:
    """Upsert a DongBoHoSoMC batch; valid records are stored, invalid ones reported, in one transaction.
    A record handled by a unit outside ``scope``, or naming a dossier stored under one, is rejected."""
    session, now, pace = uow.session, uow.clock.now(), Pacer()
    batch: ReadBatch[HoSo] = await read_records(data, HoSo, latest=now + tolerance)
    calendars = await load_calendars(session)
    registry = registry_of(calendars.units)
    results = rejected(batch.rejected)
    records = dict(batch.accepted)
    pending: dict[str, tuple[int, Dossier]] = {}
    async for index, record in paced(batch.accepted, pace):
        try:
            dossier = _dossier(record, data[index], calendars, registry)
        except Exception as error:  # one record's fault never sinks the batch
            results.append(unprocessable(index, record.MaHoSo, error))
            continue
        if scope.allows(dossier.unit_code):
            pending[record.MaHoSo] = (index, dossier)
        else:
            results.append(out_of_scope(index, record.MaHoSo, "DonViXuLy"))
    while pending:  # a second pass only for keys a concurrent writer inserted meanwhile
        stored = await store.load(session, pending.keys())
        plan = Plan()
        async for key, (index, new) in paced(pending.items(), pace):
            if key in stored and not scope.allows(stored[key].unit_code):
                plan.results[index] = out_of_scope(index, key, "MaHoSo")
                continue
            try:
                _decide(plan, index, new, stored.get(key), now + tolerance, now, calendars.of(new.unit_code))
            except Exception as error:
                plan.results[index] = unprocessable(index, key, error)
        inserted = await store.insert_new(session, [dossier for dossier, _ in plan.inserts])
        await store.save(session, plan.updates)
        pending = {  # read again from the record: the dossier of this pass was opened as new
            d.ma_ho_so: (index, _dossier(records[index], data[index], calendars, registry))
            for d, index in plan.inserts
            if d.ma_ho_so not in inserted
        }
        async for dossier in paced(plan.decided, pace):
            if dossier.ma_ho_so not in pending:
                for event in dossier.collect_events():
                    uow.emit(event)
        results += [res for res in plan.results.values() if res.ma_ho_so not in pending]
    return sorted(results, key=lambda x: x.index)


def _dossier(record: HoSo, raw: Any, calendars: UnitCalendars, registry: UnitRegistry) -> Dossier:
    """The record's dossier, handled by the unit DonViXuLy names (else the agency), in that unit's hours."""
    unit = registry.unit_named(record.DonViXuLy) or record.agency
    return dossier_of(record, raw, unit_code=unit, calendar=calendars.of(unit))


def _decide(
    plan: Plan,
    index: int,
    new: Dossier,
    old: Dossier | None,
    latest: datetime,
    now: datetime,
    calendar: WorkingCalendar,
) -> None:
    key = new.ma_ho_so
    if old is None:
        new.open(now, calendar)
        plan.inserts.append((new, index))
        plan.decided.append(new)
        plan.results[index] = RecordResult(index, key, Outcome.created)
    elif old.origin != Origin.sync:
        error = {"field": "MaHoSo", "message": "this dossier was received here, not in the provincial system"}
        plan.results[index] = RecordResult(index, key, Outcome.rejected, [error])
    elif old.content_hash == new.content_hash:
        plan.results[index] = RecordResult(index, key, Outcome.unchanged)
    elif old.is_stale(new.state_at, new.state_rank, latest):
        plan.results[index] = RecordResult(index, key, Outcome.unchanged, note="stale: a newer state is stored")
    else:
        old.apply_synced(new, now, calendar)
        plan.updates.append(old)
        plan.decided.append(old)
        plan.results[index] = RecordResult(index, key, Outcome.updated)


async def ingest_progress(
    uow: UnitOfWork, data: Sequence[Any], *, tolerance: timedelta = DEFAULT_TOLERANCE, scope: Scope = WHOLE_SYSTEM
) -> list[RecordResult]:
    """Apply CapNhatTienDoHoSoMC steps in time order; a step older than the stored state changes
    nothing; a dossier outside ``scope`` is unknown."""
    session, now = uow.session, uow.clock.now()
    batch: ReadBatch[TienDo] = await read_records(data, TienDo, unique=False, latest=now + tolerance)
    calendars = await load_calendars(session)
    stored = await store.load(session, {s.MaHoSo for _, s in batch.accepted}, scope=scope)
    results = rejected(batch.rejected)
    changed: dict[str, Dossier] = {}
    async for index, step in paced(sorted(batch.accepted, key=lambda item: item[1].ThoiDiemXuLy)):
        dossier = changed.get(step.MaHoSo) or stored.get(step.MaHoSo)
        try:
            outcome = _apply_step(uow, dossier, step, now + tolerance, now, calendars)
        except Exception as error:  # one step's fault never sinks the batch
            results.append(unprocessable(index, step.MaHoSo, error))
            continue
        if isinstance(outcome, RecordResult):
            results.append(RecordResult(index, step.MaHoSo, outcome.result, outcome.errors, outcome.note))
            continue
        changed[step.MaHoSo] = outcome
        results.append(RecordResult(index, step.MaHoSo, Outcome.updated))
    await store.save(session, changed.values())
    return sorted(results, key=lambda x: x.index)


def _apply_step(
    uow: UnitOfWork, stored: Dossier | None, step: TienDo, latest: datetime, now: datetime, calendars: UnitCalendars
) -> Dossier | RecordResult:
    """The dossier after ``step`` (a changed copy of ``stored``: a failure leaves ``stored`` as it was), or why not."""
    key = step.MaHoSo
    if stored is None:
        return RecordResult(
            0,
            key,
            Outcome.rejected,
            [{"field": "MaHoSo", "message": "unknown dossier: send it with DongBoHoSoMC first"}],
        )
    at = step.ThoiDiemXuLy
    if any(h["status"] == int(step.TrangThai) and h["at"] == iso(at) for h in stored.status_history):
        return RecordResult(0, key, Outcome.unchanged)
    if stored.is_stale(at, PROGRESS_RANK[step.TrangThai], latest):
        return RecordResult(0, key, Outcome.unchanged, note="stale: a newer state is stored")
    dossier = stored.copy()
    details = {
        "actor": step.NguoiXuLy,
        "title": step.ChucDanh,
        "department": step.PhongBanXuLy,
        "note": step.NoiDungXuLy,
    }
    dossier.change_status(
        Status(step.TrangThai),
        at,
        now,
        calendars.of(dossier.unit_code),
        source="sync",
        details=details,
        due_by_partner=step.NgayKetThucTheoQuyDinh,
    )
    for event in dossier.collect_events():
        uow.emit(event)
    return dossier
