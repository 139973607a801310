"""The unit scope a principal sees, and the conditions it adds to queries."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, MetaData, String, Table, select

from shared.auth import ADMIN, VIEWER, Principal
from shared.problems import Forbidden, NotFound
from shared.scope import WHOLE_SYSTEM, Scope
from shared.units import UnitRecord, UnitSnapshot

ROWS = Table("rows", MetaData(), Column("unit_code", String))


def tree() -> UnitSnapshot:
    def unit(code: str, parent: str | None) -> UnitRecord:
        return UnitRecord(code, code, (), "commune", parent, None, None, 1)

    return UnitSnapshot({u.code: u for u in (unit("P", None), unit("A", "P"), unit("B", "P"), unit("A1", "A"))})


def test_a_unit_sees_itself_and_the_units_below_it_only():
    scope = Scope("A", frozenset(tree().descendants("A")))
    assert [u for u in ("P", "A", "B", "A1", None) if scope.allows(u)] == ["A", "A1"]
    assert scope.within(["B", "A1", "A"]) == ["A1", "A"]
    assert WHOLE_SYSTEM.allows(None) and WHOLE_SYSTEM.allows("B")


def test_its_condition_lists_its_units_and_the_whole_systems_restricts_nothing():
    scope = Scope("A", frozenset({"A", "A1"}))
    compiled = select(ROWS).where(scope.where(ROWS.c.unit_code)).compile(compile_kwargs={"literal_binds": True})
    assert "rows.unit_code IN ('A', 'A1')" in str(compiled)
    assert "unit_code" not in str(
        select(ROWS.c.unit_code.label("u")).where(WHOLE_SYSTEM.where(ROWS.c.unit_code)).whereclause
    )


def test_out_of_scope_is_absent_and_shared_reference_data_is_the_whole_systems():
    scope = Scope("A", frozenset({"A"}))
    scope.check("A", "no")
    with pytest.raises(NotFound) as absent:
        scope.check("B", "No unit B.", field="unit")
    assert absent.value.errors == [{"field": "unit", "message": "No unit B."}]
    with pytest.raises(Forbidden):
        scope.require_whole_system("The calendar")
    WHOLE_SYSTEM.require_whole_system("The calendar")


def test_only_a_viewer_is_denied_personal_data():
    assert not Principal("v", roles=frozenset({VIEWER})).sees_personal_data
    assert Principal("a", roles=frozenset({ADMIN, VIEWER})).sees_personal_data
    assert Principal("a", roles=frozenset({ADMIN})).sees_personal_data
