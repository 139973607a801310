"""The known QĐ 766 formulas (docs/domain.md §4), by the name the catalogue gives them.

Edge rules observed on the national portal: an online-payment ratio with an empty denominator
counts as 0; reuse of digitised data reaches its 2 points at 80 %; progress with no dossier
received is undetermined (None, never 0 or 20).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.scoring.figures import Sums

Result = tuple[float | None, str | None]  # points, or None with the reason


def _share(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def progress(s: Sums) -> Result:
    """20 × (early or on time) ÷ judged."""
    if s.received == 0:
        return None, "undetermined: no dossier received in the period"
    return 20 * s.on_time / s.judged, None


def online_payment(s: Sums) -> Result:
    """6·A + min(2, 2.5·B); the 2.5·C part needs data no event carries (see the catalogue)."""
    a = _share(s.fin_paid_online, s.fin_fees)
    b = _share(s.procedures_paid_online, s.procedures_with_fees)
    return 6 * a + min(2.0, 2.5 * b), None


def reused_data(s: Sums) -> Result:
    """min(2, 2 × R ÷ 0.8), R = dossiers reusing digitised data ÷ dossiers resolved."""
    return min(2.0, 2 * _share(s.fin_reused, s.resolved) / 0.8), None


FORMULAS: dict[str, Callable[[Sums], Result]] = {
    "progress": progress,
    "online_payment": online_payment,
    "reused_data": reused_data,
}


def apply(name: str, s: Sums) -> Result:
    return FORMULAS[name](s)
