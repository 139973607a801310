"""What reminders read of other services' events (tolerant readers: other fields are ignored)."""

from __future__ import annotations

from datetime import date

from pydantic import AliasChoices, BaseModel, Field

from shared.instants import VnInstant


class TaskReminderIn(BaseModel):
    """``task.due_soon`` / ``task.overdue`` of plans."""

    obligation_id: int
    task_label: str | None = None
    task_title: str
    plan_number: str | None = None
    unit_code: str
    role: str = "lead"
    due: date
    offset_days: int = 1


class TaskWithdrawnIn(BaseModel):
    """``task.withdrawn`` of plans: the unit no longer owes the obligation."""

    obligation_id: int


class ProcedureIn(BaseModel):
    code: str | None = None
    name: str | None = None


class DossierDueSoonIn(BaseModel):
    """``dossier.due_soon`` of dossiers."""

    ma_ho_so: str
    unit: str
    procedure: ProcedureIn | None = None
    due_at: VnInstant
    apology_deadline: VnInstant | None = None


class LetterEscalatedIn(BaseModel):
    """``letter.escalated`` of this service's letters."""

    ma_ho_so: str
    unit: str
    number: str | None = None
    promised_due_at: VnInstant | None = None
    missed_due_at: VnInstant


class TargetAtRiskIn(BaseModel):
    """``target.at_risk`` of scoring (docs/asyncapi.json: unit, period, code, value, target); alternative
    names a first version of the payload may use are read too."""

    unit: str = Field(validation_alias=AliasChoices("unit", "unit_code"))
    period: str
    code: str = Field(validation_alias=AliasChoices("code", "metric_code", "indicator_code"))
    name: str | None = None
    value: float | None = None
    target: float | None = Field(default=None, validation_alias=AliasChoices("target", "target_value"))
