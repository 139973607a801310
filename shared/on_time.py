"""The QĐ 766 on-time rule for one finished dossier (docs/domain.md §4): the dossiers service stores
its verdict as the dossier's timeliness, and scoring counts by it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from shared.clock import VN_TZ


class Verdict(StrEnum):
    early = "early"
    on_time = "on_time"
    late = "late"


def finish_verdict(finished_at: datetime, due_at: datetime | None, supplements: int) -> Verdict:
    """A finished dossier: late after more than one supplement request or past its due time
    (finishing exactly at the due instant is on time); early when finished on a day (in Việt Nam)
    before the due day; otherwise on time."""
    if supplements > 1:
        return Verdict.late
    if due_at is None:
        return Verdict.on_time
    if finished_at > due_at:
        return Verdict.late
    if finished_at.astimezone(VN_TZ).date() < due_at.astimezone(VN_TZ).date():
        return Verdict.early
    return Verdict.on_time
