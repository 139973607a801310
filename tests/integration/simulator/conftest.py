"""A small simulated province on a manual clock."""

from __future__ import annotations

from datetime import datetime

import pytest

from shared.calendar import WorkingCalendar
from shared.clock import VN_TZ, ManualClock
from simulator.province import Province
from simulator.workload import ProvincialWorkload

START = datetime(2024, 4, 15, 6, 0, tzinfo=VN_TZ)


@pytest.fixture
def province() -> Province:
    simulated = Province(ProvincialWorkload(11, WorkingCalendar(), rate=30), START)
    simulated.admit(200)
    return simulated


@pytest.fixture
def clock(province: Province) -> ManualClock:
    return ManualClock(province.now)
