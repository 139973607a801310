"""A random but lawful history of dossiers, as the events the dossiers, plans and notifications
services would publish, and the truth each dossier ends in (to recount from, independently)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.scoring.rules import DossierState
from shared.bus.base import Message
from shared.clock import VN_TZ
from tests.integration.services.scoring.conftest import envelope

NOW = datetime(2024, 8, 15, 9, 0, tzinfo=VN_TZ)
START = datetime(2024, 1, 1, tzinfo=VN_TZ)
# Two provinces; commune X is unknown to plans until its unit.upserted arrives; C3 moves from P1 to P2.
UNITS = {"P1": None, "P2": None, "C1": "P1", "C2": "P1", "X": "P1", "C3": "P2"}
COMMUNES = ["C1", "C2", "C3", "X"]
PROCEDURES = ["1.001", "1.002", "2.003", "2.004", "3.005"]


@dataclass
class History:
    messages: list[Message] = field(default_factory=list)
    truth: list[DossierState] = field(default_factory=list)


def _procedure(code: str) -> dict[str, Any]:
    return {"code": code, "name": f"Thủ tục {code}", "field_code": None, "field_name": None}


def dossier(rng: random.Random, n: int) -> tuple[list[Message], DossierState]:
    key = f"000.00.00.H00-24-{n:05d}"
    unit, procedure, channel = rng.choice(COMMUNES), rng.choice(PROCEDURES), rng.choice([1, 2, 2, 3])
    received = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 200))
    due = received + timedelta(days=rng.randint(1, 30), hours=rng.randint(0, 8))
    out: list[Message] = []
    base = {"ma_ho_so": key, "unit": unit}

    def emit(type_: str, when: datetime, **data: Any) -> None:
        topic = "cchc.notifications" if type_ == "letter.issued" else "cchc.dossiers"
        out.append(envelope(type_, key, {**base, **data}, when, topic))

    emit(
        "dossier.received",
        received,
        procedure=_procedure(procedure),
        channel=channel,
        received_at=received.isoformat(),
        due_at=due.isoformat(),
        rule_set="nd61",
        origin="sync",
    )
    supplements = rng.choice([0, 0, 0, 1, 1, 2, 3])
    at = received
    for _ in range(supplements):
        at += timedelta(hours=rng.randint(1, 30))
        emit("dossier.status_changed", at, from_status=4, to_status=5, at=at.isoformat())
        old, due = due, due + timedelta(days=rng.randint(1, 4))
        emit(
            "dossier.rescheduled",
            at + timedelta(hours=1),
            old_due_at=old.isoformat(),
            new_due_at=due.isoformat(),
            reason="supplement",
        )
        at += timedelta(hours=2)
        emit("dossier.status_changed", at, from_status=5, to_status=4, at=at.isoformat())
    finished: datetime | None = received + timedelta(days=rng.randint(0, 45), hours=rng.randint(0, 9))
    if finished is not None and (finished > NOW or rng.random() < 0.1):
        finished = None
    if finished is not None and finished < at:
        finished = at + timedelta(hours=1)
    judged_due, overdue_due, apologised = due, None, False
    apology_at = due - timedelta(days=1)
    if (finished is None or finished > due) and apology_at > at and apology_at < NOW and rng.random() < 0.4:
        apologised = True
        emit(
            "letter.issued",
            apology_at,
            letter_id=f"L{n}",
            number=f"{n}/PXL",
            issued_at=apology_at.isoformat(),
            new_due_at=(due + timedelta(days=10)).isoformat(),
        )
        if finished is None or finished > apology_at:
            due = due + timedelta(days=10)
            emit(
                "dossier.rescheduled",
                apology_at + timedelta(minutes=5),
                old_due_at=judged_due.isoformat(),
                new_due_at=due.isoformat(),
                reason="apology",
            )
    elif (finished is None or finished > due) and due < NOW:
        overdue_due = due  # the alarm rang at the due instant with the dossier open
        emit(
            "dossier.overdue",
            due,
            procedure=_procedure(procedure),
            channel=channel,
            applicant={"name": None, "address": None, "phone": None, "email": None},
            received_at=received.isoformat(),
            due_at=due.isoformat(),
            rule_set="nd61",
        )
    if apologised and (finished is None or finished > due) and due < NOW:
        overdue_due = due
        emit(
            "dossier.overdue_after_apology",
            due,
            procedure=_procedure(procedure),
            channel=channel,
            applicant={"name": None, "address": None, "phone": None, "email": None},
            received_at=received.isoformat(),
            due_at=due.isoformat(),
            rule_set="nd61",
            apology_letter_id=f"L{n}",
            original_due_at=judged_due.isoformat(),
        )
    has_fees, paid, digitised, reused = rng.random() < 0.5, rng.random() < 0.5, rng.random() < 0.6, rng.random() < 0.3
    if finished is not None:
        emit(
            "dossier.resolved",
            finished,
            procedure=_procedure(procedure),
            status=rng.choice([9, 10, 3, 8]),
            received_at=received.isoformat(),
            finished_at=finished.isoformat(),
            due_at=judged_due.isoformat(),
            timeliness="x",
            on_time=True,
            supplement_count=supplements,
            channel=channel,
            paid_online=(rng.choice([1, 2]) if paid else None),
            has_fees=has_fees,
            digitised=1 if digitised else 0,
            documents_digitised=2,
            documents_reused=1 if reused else 0,
            rule_set="nd61",
        )
    truth = DossierState(
        key,
        unit,
        procedure,
        channel,
        received,
        judged_due if finished is not None else due,
        finished,
        supplements,
        overdue_due if finished is None else None,
        has_fees=finished is not None and has_fees,
        paid_online=finished is not None and has_fees and paid,
        digitised=finished is not None and digitised,
        reused=finished is not None and reused,
        apologised=apologised,
    )
    if finished is None:
        truth.has_fees = truth.paid_online = truth.digitised = truth.reused = False
    return out, truth


def history(seed: int, dossiers: int) -> History:
    rng = random.Random(seed)
    result = History()
    at = START
    for code, parent in UNITS.items():
        level = "province" if parent is None else "commune"
        data = {
            "code": code,
            "name": f"UBND {code}",
            "aliases": [],
            "level": level,
            "parent_code": "P1" if code == "C3" else parent,
            "version": 1,
        }
        result.messages.append(envelope("unit.upserted", code, data, at, "cchc.plans"))
    moved = {"code": "C3", "name": "UBND C3", "aliases": [], "level": "commune", "parent_code": "P2", "version": 2}
    result.messages.append(envelope("unit.upserted", "C3", moved, at + timedelta(days=1), "cchc.plans"))
    for n in range(dossiers):
        messages, truth = dossier(rng, n)
        result.messages += messages
        result.truth.append(truth)
    return result


def shuffled_with_duplicates(rng: random.Random, messages: list[Message], share: float = 0.15) -> list[Message]:
    stream = messages + [m for m in messages if rng.random() < share]
    rng.shuffle(stream)
    return stream
