"""Pydantic input/output of the plans API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    field_validator,
    model_validator,
)

from shared.bounds import AgencyId, Amount, Id, Measure, Text
from shared.instants import VnInstant


class UnitLevel(StrEnum):
    province = "province"
    district = "district"  # historical: no district level since 1 July 2025
    commune = "commune"
    department = "department"
    centre = "centre"


class UnitIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: Text = Field(min_length=1, max_length=300, examples=["UBND xã Cẩm Quang"])
    aliases: list[Annotated[Text, Field(min_length=1, max_length=300)]] = Field(
        default_factory=list, max_length=50, examples=[["Cẩm Quang"]]
    )
    level: UnitLevel
    parent_code: AgencyId | None = Field(default=None, examples=["000.00.10.H42"])
    valid_from: date | None = None
    valid_to: date | None = None

    @model_validator(mode="after")
    def _validity(self) -> UnitIn:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


class UnitPatch(BaseModel):
    """Some fields of a unit: those sent change (``null`` clears an optional one), the others stay."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: Text | None = Field(default=None, min_length=1, max_length=300, examples=["UBND xã Cẩm Quang"])
    aliases: list[Annotated[Text, Field(min_length=1, max_length=300)]] | None = Field(default=None, max_length=50)
    level: UnitLevel | None = None
    parent_code: AgencyId | None = None
    valid_from: date | None = None
    valid_to: date | None = None

    @field_validator("name", "aliases", "level")
    @classmethod
    def _not_cleared(cls, value: Any) -> Any:
        """Sent as null (a default is never checked): these a unit always has."""
        if value is None:
            raise ValueError("cannot be cleared")
        return value


class UnitOut(UnitIn):
    model_config = ConfigDict(from_attributes=True)

    code: str
    version: int
    updated_at: VnInstant


class UnitPage(BaseModel):
    items: list[UnitOut]
    next_cursor: str | None


class UnitRecord(UnitIn):
    """One record of a bulk import: a unit with its code."""

    code: AgencyId = Field(examples=["000.00.12.H42"])


class ImportOutcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    rejected = "rejected"


class UnitImportResult(BaseModel):
    index: int
    code: str | None
    outcome: ImportOutcome
    errors: list[dict[str, Any]] = Field(default_factory=list)


class UnitGroupIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: Text = Field(min_length=1, max_length=300, examples=["UBND các xã, thị trấn"])
    aliases: list[Annotated[Text, Field(min_length=1, max_length=300)]] = Field(
        default_factory=list, max_length=50, examples=[["Các xã, thị trấn", "UBND cấp xã"]]
    )
    owner_code: AgencyId | None = Field(default=None, description="the unit whose plans use this name")
    member_level: UnitLevel | None = Field(
        default=None, description="every unit of this level under the owner is a member"
    )
    members: list[AgencyId] = Field(
        default_factory=list, max_length=10_000, description="unit codes that are members besides"
    )


class UnitGroupOut(BaseModel):
    code: str
    name: str
    aliases: list[str]
    owner_code: str | None
    member_level: UnitLevel | None
    members: list[str] = Field(description="the listed members")
    resolved_members: list[str] = Field(description="every member unit, the level rule applied")
    version: int


class UnitGroupPage(BaseModel):
    items: list[UnitGroupOut]
    next_cursor: str | None


class PlanStatus(StrEnum):
    draft = "draft"
    published = "published"
    closed = "closed"


class NodeKind(StrEnum):
    area = "area"
    objective = "objective"
    task = "task"
    activity = "activity"


class Role(StrEnum):
    lead = "lead"
    coordinating = "coordinating"


class ProgressStatus(StrEnum):
    not_started = "not_started"
    in_progress = "in_progress"
    done = "done"


class PlanIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    issuer_code: AgencyId = Field(examples=["000.00.10.H42"])
    number: Text | None = Field(default=None, max_length=100, examples=["183/KH-UBND"])
    title: Text = Field(min_length=1, max_length=500)
    issued_on: date | None = None
    year: int = Field(ge=2000, le=2100)
    parent_id: Id | None = None


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    issuer_code: str
    number: str | None
    title: str
    issued_on: date | None
    year: int
    parent_id: int | None
    status: PlanStatus
    source_name: str | None
    progress: float
    reminder_policy: str | None = Field(
        description='working-day offsets and hour its reminders are planned with ("5,1@7"); null until published'
    )
    version: int
    created_at: VnInstant
    updated_at: VnInstant


class PlanPage(BaseModel):
    items: list[PlanOut]
    next_cursor: str | None


class ObligationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    plan_id: int
    node_id: int
    unit_code: str
    role: Role
    group_code: str | None
    status: ProgressStatus
    percent: float
    note: str | None
    evidence: list[str]
    due: date | None
    completed_on: date | None
    on_time: bool | None
    withdrawn_at: VnInstant | None = Field(description="when its unit left the group it owed this through")
    version: int
    updated_at: VnInstant


class OccurrenceOut(BaseModel):
    """One due date of an obligation with its own progress; ``done_on`` is its completion date."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    obligation_id: int
    unit_code: str
    due: date
    status: ProgressStatus
    percent: float
    note: str | None
    evidence: list[str]
    done_on: date | None
    on_time: bool | None
    version: int


class NodeOut(BaseModel):
    """A node of the plan tree with its obligations and rolled-up progress."""

    id: int
    parent_id: int | None
    kind: NodeKind
    label: str | None
    title: str
    line: int | None
    product: str | None
    budget_amount: Decimal | None
    budget_text: str | None
    note: str | None
    schedule_raw: str | None
    schedule: dict[str, Any] | None
    lead_raw: str | None
    coordinating_raw: str | None
    unmatched: list[str]
    weight: float
    progress: float
    implements_id: int | None = Field(description="the parent plan's task or activity this one implements")
    dues: list[date] = Field(description="the due dates its obligations owe")
    obligations: list[ObligationOut] = Field(default_factory=list)
    children: list[NodeOut] = Field(default_factory=list)


class PlanTree(BaseModel):
    plan: PlanOut
    areas: list[NodeOut]


class NodeIn(BaseModel):
    """A node added by hand; cells are read as an imported row would be."""

    model_config = ConfigDict(str_strip_whitespace=True)

    kind: NodeKind
    parent_id: Id | None = None
    label: Text | None = Field(default=None, max_length=50)
    title: Text = Field(min_length=1, max_length=5000)
    schedule: Text | None = Field(default=None, max_length=1000, examples=["Trước 15/01/2024"])
    lead: Text | None = Field(default=None, max_length=2000, examples=["Phòng Nội vụ"])
    coordinating: Text | None = Field(default=None, max_length=2000, examples=["UBND các xã, thị trấn"])
    product: Text | None = Field(default=None, max_length=5000)
    budget_amount: Amount | None = Field(default=None, ge=0)
    budget_text: Text | None = Field(default=None, max_length=1000)
    note: Text | None = Field(default=None, max_length=5000)
    weight: Measure = Field(default=1.0, gt=0)
    implements_id: Id | None = Field(default=None, description="the parent plan's task or activity it implements")


class NodeUpdate(BaseModel):
    """A change of a node's schedule or of the parent plan's task it implements (a field left out
    stays as it is; ``implements_id: null`` removes the link)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    schedule: Text | None = Field(default=None, max_length=1000, examples=["Trước 31/01/2024"])
    implements_id: Id | None = None


class ProgressIn(BaseModel):
    """A progress report of an obligation or of one of its occurrences; ``version`` is the one the
    reporter read."""

    model_config = ConfigDict(str_strip_whitespace=True)

    version: Id
    status: ProgressStatus | None = None
    percent: float | None = Field(default=None, ge=0, le=100)
    note: Text | None = Field(default=None, max_length=5000)
    evidence: list[HttpUrl] | None = None
    completed_on: date | None = None


class PlanImportIn(BaseModel):
    """What comes with an appendix table to import (multipart form fields, or GraphQL arguments)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    issuer: Text = Field(min_length=1, max_length=300, description="the issuing unit's code, name or alias")
    year: int = Field(ge=2000, le=2100)
    number: Text | None = Field(default=None, max_length=100)
    title: Text | None = Field(default=None, max_length=500)
    issued_on: date | None = None


class ScheduleCounts(BaseModel):
    typed: int = 0
    triggered: int = 0
    unparsed: int = 0


class UnitCounts(BaseModel):
    matched: int = Field(default=0, description="distinct agency names matched to a unit or group")
    unmatched: list[str] = Field(default_factory=list, description="agency names to map, in order of appearance")


class ImportReport(BaseModel):
    plan_id: int
    unchanged: bool = Field(
        description="true when this very table (the same rows, whatever the file format) was imported before: nothing was written"
    )
    rows_read: int
    areas_created: int = 0
    objectives_created: int = 0
    tasks_created: int = 0
    activities_created: int = 0
    obligations_created: int = 0
    targets_suggested: int = 0
    schedules: ScheduleCounts = Field(default_factory=ScheduleCounts)
    units: UnitCounts = Field(default_factory=UnitCounts)
    rows_added: int = Field(0, description="rows not in the plan's previous import (all of them on a first import)")
    rows_changed: int = Field(0, description="rows with the same section, number and task as before but other cells")
    rows_removed: int = Field(0, description="rows of the previous import no longer in the table")


class TargetOperator(StrEnum):
    ge = ">="
    gt = ">"
    le = "<="
    lt = "<"
    eq = "="


class TargetStatus(StrEnum):
    suggested = "suggested"
    confirmed = "confirmed"


class TargetIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    node_id: Id | None = Field(
        default=None, description="an area, objective or task of the plan; the plan itself when null"
    )
    metric_code: Text = Field(min_length=1, max_length=100, examples=["tthc.on_time_rate"])
    operator: TargetOperator
    value: Amount = Field(description="at most 10^15 in magnitude, kept to four decimals")
    unit: Text = Field(default="%", max_length=20)
    strict: bool = Field(default=False, description='"trên X%": strictly more than X')
    level: UnitLevel | None = None
    period: Text = Field(min_length=1, max_length=20, examples=["2024"])

    @field_validator("value")
    @classmethod
    def _scale(cls, value: Decimal) -> Decimal:
        """Stored with four decimals: the same number in the answer, the event and the database."""
        return value.quantize(Decimal("0.0001"))


class TargetUpdate(TargetIn):
    version: Id


class TargetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    plan_id: int
    node_id: int | None
    metric_code: str | None = Field(description="null on a suggestion whose metric was not recognised")
    operator: TargetOperator
    value: Decimal
    unit: str
    strict: bool
    level: UnitLevel | None
    period: str
    status: TargetStatus
    source_text: str | None
    version: int


class OwedItem(BaseModel):
    """One due occurrence of an obligation, with what it is about."""

    occurrence_id: int
    due: date
    done_on: date | None
    overdue: bool
    occurrence: OccurrenceOut
    obligation: ObligationOut
    plan_id: int
    plan_number: str | None
    plan_title: str
    node_label: str | None
    node_title: str
    node_kind: NodeKind


class OwedPage(BaseModel):
    items: list[OwedItem]
    next_cursor: str | None


class TaskHit(BaseModel):
    id: int
    plan_id: int
    kind: NodeKind
    label: str | None
    title: str
    schedule_raw: str | None
    progress: float


class TaskPage(BaseModel):
    items: list[TaskHit]
    next_cursor: str | None
