"""A dossier as the API shows it, written as JSON once, straight from its row.

``DossierOut`` (schemas.py) documents the shape and serves GraphQL and the write routes' answers,
which are validated from this JSON (:func:`to_out`); the read routes send this JSON as it is. It
is what ``DossierOut`` would write: the same fields in the same order, nested lists with their
models' fields and defaults, instants in pydantic's form (UTC as ``Z``); a test holds it to that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import orjson

from services.dossiers.codes import ON_TIME, Status
from services.dossiers.schemas import DossierOut
from shared.reads import Row

# The columns a view reads (the row's others are bookkeeping: hashes, alarms, raw supplements).
COLUMNS = (
    "ma_ho_so", "origin", "status", "unit_code", "agency", "ma_tthc", "procedure_name", "field_code", "field_name",
    "channel", "applicant_name", "applicant_id_number", "applicant_type", "email", "phone", "address", "summary",
    "submitted_at", "received_at", "due_at", "original_due_at", "finished_at", "returned_at", "timeliness",
    "rule_set", "supplement_count", "paid_online", "digitised", "pauses", "status_history", "due_history",
    "apology", "documents", "fees", "result_papers", "extra", "version", "updated_at",
)  # fmt: skip

_LABELS = {status.value: status.label for status in Status}
_FINISHED = frozenset(status.value for status in Status if status.is_finished)


def _instant(text: str | None) -> datetime | None:
    """An instant stored as ISO text inside a JSON column, to be written as pydantic writes it."""
    return None if text is None else datetime.fromisoformat(text)


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


def view(row: Row) -> dict[str, Any]:
    """The API's dossier (``DossierOut``'s fields) as plain values orjson writes."""
    status = row["status"]
    return {
        "ma_ho_so": row["ma_ho_so"],
        "origin": row["origin"],
        "status": status,
        "status_label": _LABELS[status],
        "unit": row["unit_code"],
        "agency": row["agency"],
        "procedure": {
            "code": row["ma_tthc"],
            "name": row["procedure_name"],
            "field_code": row["field_code"],
            "field_name": row["field_name"],
        },
        "channel": row["channel"],
        "applicant": {
            "name": row["applicant_name"],
            "id_number": row["applicant_id_number"],
            "type": row["applicant_type"],
            "email": row["email"],
            "phone": row["phone"],
            "address": row["address"],
        },
        "summary": row["summary"],
        "submitted_at": row["submitted_at"],
        "received_at": row["received_at"],
        "due_at": row["due_at"],
        "original_due_at": row["original_due_at"],
        "finished_at": row["finished_at"],
        "returned_at": row["returned_at"],
        "timeliness": row["timeliness"],
        "on_time": row["timeliness"] in ON_TIME if status in _FINISHED else None,
        "rule_set": row["rule_set"],
        "supplement_count": row["supplement_count"],
        "paid_online": row["paid_online"],
        "digitised": row["digitised"],
        "pauses": _each(row["pauses"], _pause),
        "status_history": _each(row["status_history"], _step),
        "due_history": _each(row["due_history"], _due_change),
        "apology": row["apology"],
        "documents": row["documents"],
        "fees": row["fees"],
        "result_papers": row["result_papers"],
        "extra": row["extra"],
        "version": row["version"],
        "updated_at": row["updated_at"],
    }


def dossier_json(row: Row) -> bytes:
    return orjson.dumps(view(row), option=orjson.OPT_UTC_Z)


def page_json(rows: list[Row], next_cursor: str | None) -> bytes:
    """``DossierPage``: the items and the cursor of the next page."""
    return orjson.dumps({"items": [view(row) for row in rows], "next_cursor": next_cursor}, option=orjson.OPT_UTC_Z)


def to_out(row: Row) -> DossierOut:
    """The same dossier as a model (GraphQL, the write routes' answers)."""
    return DossierOut.model_validate_json(dossier_json(row))
