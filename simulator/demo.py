"""The live demo's province (``cchc simulate provincial --demo``, which ``make run`` starts).

Its offices work around the clock, every day, and besides the catalogue it offers two fictional
procedures with legal times of 15 and 30 minutes, a third to half of which finish minutes late (and whose
applicants answer a request for more documents within minutes, not days):
whenever someone watches, dossiers arrive, fall due, go late (and get their apology letters) and
are resolved within minutes. The services still count in their own working calendar; only the
province's dossiers (their NgayHenTra and the instants of their events) follow this one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from shared.calendar import OfficeHours, WorkingCalendar
from simulator.catalogue import DEMO_PROCEDURES, PROCEDURES
from simulator.workload import ProvincialWorkload

ALL_DAY = OfficeHours(windows=((time(0, 0), time(23, 59, 59)),), same_day_cutoff=time(23, 59, 59))


@dataclass(frozen=True)
class AroundTheClock(WorkingCalendar):
    """Every day is worked, from midnight to midnight."""

    hours: OfficeHours = field(default=ALL_DAY)

    def is_working_day(self, day: date) -> bool:
        return True


def demo_workload(seed: int, rate: float) -> ProvincialWorkload:
    """``rate`` dossiers an hour, day and night, of the catalogue and the short demo procedures."""
    return ProvincialWorkload(seed, AroundTheClock(), procedures=PROCEDURES + DEMO_PROCEDURES, rate=rate)
