"""Events the scoring service publishes (topic ``cchc.scoring``)."""

from __future__ import annotations

from pydantic import BaseModel

from shared.events import DomainEvent, event_type


class TargetRef(BaseModel):
    target_id: int
    plan_id: int
    operator: str
    value: float  # in the indicator's unit (a percentage as a 0–1 ratio)


@event_type("indicator.changed", service="scoring", subject="unit", units=("unit",))
class IndicatorChanged(DomainEvent):
    """An indicator of a unit (its subtree rolled up) for a period moved; at most one per unit,
    period and code per second (a change within a second of the last one waits for that second,
    then the latest value goes out)."""

    unit: str
    period: str
    code: str
    value: float | None
    numerator: float | None
    denominator: float | None
    previous: float | None
    targets: list[TargetRef]


class _TargetStatusChanged(DomainEvent):
    target_id: int
    plan_id: int
    unit: str
    period: str
    code: str
    value: float | None
    projected: float | None
    target: TargetRef
    status: str


@event_type("target.at_risk", service="scoring", subject="unit", units=("unit",))
class TargetAtRisk(_TargetStatusChanged):
    """A plan target's projection to its period's end no longer meets it (once per status change)."""


@event_type("target.missed", service="scoring", subject="unit", units=("unit",))
class TargetMissed(_TargetStatusChanged):
    """A plan target's period ended without meeting it (once)."""
