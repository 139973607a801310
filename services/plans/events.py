"""Events the plans service publishes (topic ``cchc.plans``)."""

from __future__ import annotations

from datetime import date

from shared.events import DomainEvent, event_type


@event_type("unit.upserted", service="plans", subject="code")
class UnitUpserted(DomainEvent):
    """A unit was registered or changed; other services keep their replica from it."""

    code: str
    name: str
    aliases: list[str]
    level: str
    parent_code: str | None
    valid_from: date | None
    valid_to: date | None
    version: int
