"""A dossier as the API shows it, written as JSON once, straight from its row.

``DossierOut`` (schemas.py) documents the shape and serves GraphQL and the write routes' answers,
which are validated from this JSON (:func:`to_out`); the read routes send this JSON as it is. It
is what ``DossierOut`` would write: the same fields in the same order, nested lists with their
models' fields and defaults, instants in Vietnam time (``+07:00``, as ``VnInstant`` writes them),
personal data masked for a scope that hides it; a test holds it to that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from services.dossiers.codes import ON_TIME, Status
from services.dossiers.dossier import APPLICANT, PROCEDURE, SHOWN
from services.dossiers.schemas import DossierOut
from shared.clock import VN_TZ
from shared.personal import masked
from shared.reads import Row
from shared.scope import WHOLE_SYSTEM, Scope

COLUMNS = SHOWN  # the columns a view reads, as the dossier declares them

_LABELS = {status.value: status.label for status in Status}
_FINISHED = frozenset(status.value for status in Status if status.is_finished)


def _vn(instant: datetime | None) -> datetime | None:
    """An instant in Vietnam time (orjson then writes ``+07:00``); a naive one is UTC, as stored."""
    if instant is None:
        return None
    return (instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)).astimezone(VN_TZ)


def _instant(text: str | None) -> datetime | None:
    """An instant stored as ISO text inside a JSON column, in Vietnam time."""
    return None if text is None else _vn(datetime.fromisoformat(text))


def _apology(apology: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if apology is None:
        return None
    return {
        "letter_id": apology["letter_id"],
        "number": apology["number"],
        "issued_at": _instant(apology["issued_at"]),
        "old_due_at": _instant(apology.get("old_due_at")),
    }


def _step(step: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "status": step["status"],
        "label": _LABELS[step["status"]],
        "at": _instant(step.get("at")),
        "source": step["source"],
        "actor": step.get("actor"),
        "title": step.get("title"),
        "department": step.get("department"),
        "note": step.get("note"),
    }


def _pause(pause: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "requested_at": _instant(pause.get("requested_at")),
        "resumed_at": _instant(pause.get("resumed_at")),
        "working_seconds": pause.get("working_seconds"),
        "due_before": _instant(pause.get("due_before")),
        "due_after": _instant(pause.get("due_after")),
    }


def _due_change(change: Mapping[str, Any]) -> dict[str, Any]:
    legal = change.get("legal_time")
    return {
        "due_at": _instant(change.get("due_at")),
        "previous_due_at": _instant(change.get("previous_due_at")),
        "at": _instant(change.get("at")),
        "reason": change["reason"],
        "legal_time": None
        if legal is None
        else {"amount": float(legal["amount"]), "unit": legal["unit"], "same_day": bool(legal.get("same_day", False))},
    }


def _each(items: list[Mapping[str, Any]], one: Callable[[Mapping[str, Any]], dict[str, Any]]) -> list[dict[str, Any]]:
    return [one(item) for item in items]


def view(row: Row, scope: Scope = WHOLE_SYSTEM) -> dict[str, Any]:
    """The API's dossier (``DossierOut``'s fields) as plain values orjson writes. When ``scope``
    hides personal data, the applicant comes masked and ``extra`` empty (the provincial fields this
    service does not read, such as ``DinhDanhCHS``, may hold anything)."""
    status = row["status"]
    applicant = {key: row[column] for key, column in APPLICANT.items()}
    return {
        "ma_ho_so": row["ma_ho_so"],
        "origin": row["origin"],
        "status": status,
        "status_label": _LABELS[status],
        "unit": row["unit_code"],
        "agency": row["agency"],
        "procedure": {key: row[column] for key, column in PROCEDURE.items()},
        "channel": row["channel"],
        "applicant": applicant if scope.personal_data else masked(applicant),
        "summary": row["summary"],
        "submitted_at": _vn(row["submitted_at"]),
        "received_at": _vn(row["received_at"]),
        "due_at": _vn(row["due_at"]),
        "original_due_at": _vn(row["original_due_at"]),
        "finished_at": _vn(row["finished_at"]),
        "returned_at": _vn(row["returned_at"]),
        "timeliness": row["timeliness"],
        "on_time": row["timeliness"] in ON_TIME if status in _FINISHED else None,
        "rule_set": row["rule_set"],
        "supplement_count": row["supplement_count"],
        "paid_online": row["paid_online"],
        "digitised": row["digitised"],
        "pauses": _each(row["pauses"], _pause),
        "status_history": _each(row["status_history"], _step),
        "due_history": _each(row["due_history"], _due_change),
        "apology": _apology(row["apology"]),
        "apology_due_at": _vn(row["apology_due_at"]),
        "documents": row["documents"],
        "fees": row["fees"],
        "result_papers": row["result_papers"],
        "extra": row["extra"] if scope.personal_data else {},
        "version": row["version"],
        "updated_at": _vn(row["updated_at"]),
    }


def dossier_json(row: Row, scope: Scope = WHOLE_SYSTEM) -> bytes:
    return orjson.dumps(view(row, scope))


def page_json(rows: list[Row], next_cursor: str | None, scope: Scope = WHOLE_SYSTEM) -> bytes:
    """``DossierPage``: the items and the cursor of the next page."""
    return orjson.dumps({"items": [view(row, scope) for row in rows], "next_cursor": next_cursor})


def to_out(row: Row, scope: Scope = WHOLE_SYSTEM) -> DossierOut:
    """The same dossier as a model (GraphQL, the write routes' answers)."""
    return DossierOut.model_validate_json(dossier_json(row, scope))
