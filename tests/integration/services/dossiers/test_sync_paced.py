"""A large push serves the event loop between slices of its work (docs/performance.md, reads):
the reads beside it are not held for the whole batch."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from services.dossiers.dossier import Dossier
from services.dossiers.dvcqg import HoSo
from services.dossiers.sync import ingest
from shared import pacing
from shared.calendar import WorkingCalendar
from shared.clock import VN_TZ
from simulator.workload import ProvincialWorkload
from tests.integration.services.dossiers.conftest import Dossiers
from tests.support.loop import turns_beside

RECORDS = 40


def longest_run_without_a_turn(log: list[str], step: str) -> int:
    """The most ``step`` entries in a row with no turn of the task beside them in between."""
    longest = run = 0
    for entry in log:
        if entry == "turn":
            run = 0
        elif entry == step:
            run += 1
            longest = max(longest, run)
    return longest


async def test_a_push_lets_other_tasks_run_between_its_records(dossiers: Dossiers, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(pacing, "SLICE", 0.0)  # every record uses up a slice
    log: list[str] = []

    def logged(step: str, call: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            log.append(step)
            return call(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(HoSo, "model_validate", logged("validate", HoSo.model_validate))
    monkeypatch.setattr(ingest, "dossier_of", logged("dossier", ingest.dossier_of))
    monkeypatch.setattr(Dossier, "to_row", logged("row", Dossier.to_row))
    records = list(ProvincialWorkload(3, WorkingCalendar()).dossiers(RECORDS, datetime(2024, 1, 2, 7, tzinfo=VN_TZ)))
    async with turns_beside(log, "turn"):
        report = await dossiers.push(records)

    assert report["created"] == RECORDS
    for step in ("validate", "dossier", "row"):
        assert log.count(step) >= RECORDS
        assert longest_run_without_a_turn(log, step) == 1, step
