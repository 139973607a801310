"""A small simulated province on a manual clock."""

from __future__ import annotations

from datetime import datetime

import pytest

from services.dossiers.simulator.province import Province
from services.dossiers.simulator.workload import ProvincialWorkload
from shared.calendar import WorkingCalendar
from shared.clock import VN_TZ, ManualClock

START = datetime(2024, 4, 15, 6, 0, tzinfo=VN_TZ)


@pytest.fixture
def province() -> Province:
    simulated = Province(ProvincialWorkload(11, WorkingCalendar(), rate=30), START)
    simulated.admit(200)
    return simulated


@pytest.fixture
def clock(province: Province) -> ManualClock:
    return ManualClock(province.now)
