"""The events the plans service added are in the catalogue, on cchc.plans, with the fields consumers read."""

from __future__ import annotations

import json

import pytest

from services.cli import catalogue_text

CATALOGUE = json.loads(catalogue_text())


@pytest.mark.parametrize(
    ("name", "type_", "fields"),
    [
        ("UnitGroupUpserted", "vn.cchc.unit_group.upserted.v1", {"code", "members", "resolved_members", "version"}),
        ("UnitGroupDeleted", "vn.cchc.unit_group.deleted.v1", {"code", "version"}),
        (
            "TaskRescheduled",
            "vn.cchc.task.rescheduled.v1",
            {"task_id", "implements_id", "old_due", "new_due", "reason", "unit_codes"},
        ),
        ("TaskCompleted", "vn.cchc.task.completed.v1", {"occurrence_id", "due", "on_time", "obligation_done"}),
        ("TaskOverdue", "vn.cchc.task.overdue.v1", {"occurrence_id", "due", "offset_days"}),
    ],
)
def test_each_plans_event_is_catalogued_on_the_plans_topic(name: str, type_: str, fields: set[str]):
    assert CATALOGUE["components"]["messages"][name]["name"] == type_
    assert name in CATALOGUE["channels"]["cchc.plans"]["messages"]
    assert fields <= set(CATALOGUE["components"]["schemas"][name]["properties"])
