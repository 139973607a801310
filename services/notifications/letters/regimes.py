"""The legal form of an apology letter, by the dossier's receipt date (data in ``regimes.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from shared.clock import VN_TZ

REGIMES_FILE = Path(__file__).with_name("regimes.json")


@dataclass(frozen=True)
class TemplateRef:
    id: str
    version: int


@dataclass(frozen=True)
class Regime:
    code: str
    title: str  # the form's title, as the law writes it
    form: str
    applies_from: date  # dossiers received on or after this day (Vietnam time) get this form
    source: str
    rule_sets: tuple[str, ...]  # the dossiers service's rule-set codes this form belongs to
    template: TemplateRef  # the template new letters of this regime are rendered with
    short_form: dict[str, str]  # channel -> str.format pattern of the SMS/Zalo text


@lru_cache(maxsize=4)
def load_regimes(path: Path = REGIMES_FILE) -> tuple[Regime, ...]:
    """The regimes of ``path``, oldest first."""
    raw = json.loads(path.read_text(encoding="utf-8"))["regimes"]
    regimes = [
        Regime(
            code=r["code"],
            title=r["title"],
            form=r["form"],
            applies_from=date.fromisoformat(r["applies_to_received_from"]),
            source=r["source"],
            rule_sets=tuple(r["rule_sets"]),
            template=TemplateRef(r["template"]["id"], int(r["template"]["version"])),
            short_form=dict(r["short_form"]),
        )
        for r in raw
    ]
    return tuple(sorted(regimes, key=lambda r: r.applies_from))


def regime_at(
    received_at: datetime | None, rule_set: str | None = None, regimes: tuple[Regime, ...] | None = None
) -> Regime:
    """The form in force on the day (Vietnam time) the dossier was received: a dossier keeps the
    rules it was received under. Without a receipt time, the form of the dossier's rule set, else
    the newest."""
    regimes = regimes or load_regimes()
    if received_at is not None:
        day = received_at.astimezone(VN_TZ).date()
        in_force = [r for r in regimes if r.applies_from <= day]
        return in_force[-1] if in_force else regimes[0]
    return next((r for r in regimes if rule_set in r.rule_sets), regimes[-1])


def regime(code: str) -> Regime:
    """The regime named ``code`` (of a stored letter)."""
    for candidate in load_regimes():
        if candidate.code == code:
            return candidate
    raise KeyError(code)
