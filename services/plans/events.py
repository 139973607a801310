"""Events the plans service publishes (topic ``cchc.plans``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel

from shared.events import DomainEvent, event_type
from shared.instants import VnInstant


@event_type("unit.upserted", service="plans", subject="code", units=("code",))
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


@event_type("unit.deleted", service="plans", subject="code", units=("code",))
class UnitDeleted(DomainEvent):
    """A unit nothing referred to was removed; replicas drop it. ``version`` is one past the
    removed unit's last, so a replica never lets an older ``unit.upserted`` bring it back."""

    code: str
    version: int


@event_type("unit_group.upserted", service="plans", subject="code", units=("owner_code",))
class UnitGroupUpserted(DomainEvent):
    """A unit group was defined or changed, or a unit joined or left it by its level rule."""

    code: str
    name: str
    aliases: list[str]
    owner_code: str | None
    member_level: str | None
    members: list[str]
    resolved_members: list[str]
    version: int


@event_type("unit_group.deleted", service="plans", subject="code")
class UnitGroupDeleted(DomainEvent):
    """A unit group no plan names was removed."""

    code: str
    version: int


class PlanCounts(BaseModel):
    areas: int
    objectives: int
    tasks: int
    activities: int
    obligations: int
    units: int
    targets: int


@event_type("plan.published", service="plans", subject="plan_id", units=("issuer_code",))
class PlanPublished(DomainEvent):
    """A plan was published: its obligations now bind the units and reminders run."""

    plan_id: int
    issuer_code: str
    number: str | None
    title: str
    year: int
    issued_on: date | None
    parent_id: int | None
    counts: PlanCounts


class TaskReminder(DomainEvent):
    """What a reminder about one due occurrence of an obligation says."""

    obligation_id: int
    task_id: int
    task_label: str | None
    task_title: str
    plan_id: int
    plan_number: str | None
    unit_code: str
    role: str
    due: date
    offset_days: int
    occurrence_id: int


@event_type("task.due_soon", service="plans", subject="obligation_id", units=("unit_code",))
class TaskDueSoon(TaskReminder):
    """An obligation falls due in ``offset_days`` working days."""


@event_type("task.overdue", service="plans", subject="obligation_id", units=("unit_code",))
class TaskOverdue(TaskReminder):
    """An obligation passed its due date unfinished (``offset_days``: working days late, ≥ 1)."""


@event_type("task.completed", service="plans", subject="obligation_id", units=("unit_code",))
class TaskCompleted(DomainEvent):
    """A unit reported an occurrence of an obligation done (or an obligation without due date).

    ``due`` and ``on_time`` are the occurrence's (null without one); ``obligation_done`` says
    whether every occurrence of the obligation is now done.
    """

    obligation_id: int
    task_id: int
    plan_id: int
    unit_code: str
    role: str
    completed_at: date
    due: date | None
    on_time: bool | None
    occurrence_id: int | None
    obligation_done: bool


class OccurrenceMove(BaseModel):
    """One due date of an obligation that moved: ``old_due`` null for a date newly owed,
    ``new_due`` null for a date no longer owed (dropped: nothing was reported on it)."""

    occurrence_id: int
    old_due: date | None
    new_due: date | None


class ObligationMoves(BaseModel):
    """The due dates of one unit's obligation that moved with its task."""

    obligation_id: int
    unit_code: str
    role: str
    occurrences: list[OccurrenceMove]


@event_type("task.rescheduled", service="plans", subject="task_id", units=("unit_codes",))
class TaskRescheduled(DomainEvent):
    """A task's or activity's due dates moved: its schedule was edited (``reason`` ``edited``), the
    parent plan's task it implements moved (``parent_changed``), or a revised table of its published
    plan gave it other dates (``revised``). ``old_due``/``new_due`` are the deadlines (last due
    dates), ``old_dues``/``dues`` all of them; ``unit_codes`` the units that owe it, ``lead_unit_codes``
    those that lead it; ``obligations`` each obligation's occurrences whose date moved."""

    task_id: int
    plan_id: int
    implements_id: int | None
    reason: str
    old_due: date | None
    new_due: date | None
    dues: list[date]
    unit_codes: list[str]
    old_dues: list[date] = []
    lead_unit_codes: list[str] = []
    obligations: list[ObligationMoves] = []


@event_type("task.withdrawn", service="plans", subject="obligation_id", units=("unit_code",))
class TaskWithdrawn(DomainEvent):
    """A unit no longer owes an obligation: a revised table of its published plan removed the task
    (``reason`` ``task_removed``), the unit was no longer named for it (``unit_removed``), or it left
    the group it owed it through (``left_group``). What it reported stays; it gets no more reminders.
    ``open_occurrence_ids`` are its occurrences not done, which stop counting as owed."""

    obligation_id: int
    task_id: int
    plan_id: int
    unit_code: str
    role: str
    reason: str
    withdrawn_at: VnInstant
    open_occurrence_ids: list[int]


@event_type("target.set", service="plans", subject="target_id", units=("issuer_code",))
class TargetSet(DomainEvent):
    """A confirmed target of a plan (or one of its nodes), for scoring."""

    target_id: int
    plan_id: int
    node_id: int | None
    issuer_code: str
    metric_code: str
    operator: str
    value: Decimal
    unit: str
    strict: bool
    level: str | None
    period: str
    version: int


class ApiKeyFields(DomainEvent):
    """A key's whole row, the hash of the key in place of the key (shared.api_keys.KeyRecord)."""

    id: str
    name: str
    role: str
    unit: str | None
    key_hash: str
    created_at: VnInstant
    expires_at: VnInstant | None
    revoked_at: VnInstant | None
    version: int


@event_type("api_key.created", service="plans", subject="id")
class ApiKeyCreated(ApiKeyFields):
    """An API key was made; every service adds it to its replica and accepts it within seconds."""


@event_type("api_key.revoked", service="plans", subject="id")
class ApiKeyRevoked(ApiKeyFields):
    """An API key was revoked; every service refuses it within seconds."""
