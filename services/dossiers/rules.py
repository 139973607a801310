"""Legal rule sets as data with effective dates (docs/domain.md §6): a dossier keeps the one in force at receipt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from shared.clock import VN_TZ


@dataclass(frozen=True)
class RuleSet:
    code: str
    decree: str
    letter_form: str  # the apology form of the circular in force
    effective_from: date


RULE_SETS = (
    RuleSet(
        code="nd61_2018",
        decree="Nghị định 61/2018/NĐ-CP",
        letter_form="Phiếu xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04, TT 01/2018/TT-VPCP)",
        effective_from=date(2018, 6, 21),
    ),
    RuleSet(
        code="nd118_2025",
        decree="Nghị định 118/2025/NĐ-CP",
        letter_form="Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết (Mẫu 04, TT 03/2025/TT-VPCP)",
        effective_from=date(2025, 7, 1),
    ),
)


def rule_set_at(instant: datetime | None) -> RuleSet:
    """The rule set in force on the day (Vietnam time) of ``instant``; the newest when unknown."""
    if instant is None:
        return RULE_SETS[-1]
    day = instant.astimezone(VN_TZ).date()
    in_force = [r for r in RULE_SETS if r.effective_from <= day]
    return in_force[-1] if in_force else RULE_SETS[0]
