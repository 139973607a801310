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
    model_config = ConfigDict(use_attribute_docstrings=True, str_strip_whitespace=True)

    name: Text = Field(min_length=1, max_length=300, examples=["UBND xã Cẩm Quang"])
    """The unit's official name"""
    aliases: list[Annotated[Text, Field(min_length=1, max_length=300)]] = Field(
        default_factory=list, max_length=50, examples=[["Cẩm Quang"]]
    )
    """Other names plans write it with (matched when reading a plan's cells)"""
    level: UnitLevel
    """province, district (before 1 July 2025), commune, department or centre"""
    parent_code: AgencyId | None = Field(default=None, examples=["000.00.10.H42"])
    """The unit it belongs to (its electronic agency id)"""
    valid_from: date | None = None
    """The first day it exists; null: always"""
    valid_to: date | None = None
    """The last day it exists (a merged or dissolved unit); null: still"""

    @model_validator(mode="after")
    def _validity(self) -> UnitIn:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


class UnitPatch(BaseModel):
    """Some fields of a unit: those sent change (``null`` clears an optional one), the others stay."""

    model_config = ConfigDict(use_attribute_docstrings=True, str_strip_whitespace=True)

    name: Text | None = Field(default=None, min_length=1, max_length=300, examples=["UBND xã Cẩm Quang"])
    """The unit's official name (left out: unchanged)"""
    aliases: list[Annotated[Text, Field(min_length=1, max_length=300)]] | None = Field(default=None, max_length=50)
    """Other names plans write it with (matched when reading a plan's cells) (left out: unchanged)"""
    level: UnitLevel | None = None
    """province, district (before 1 July 2025), commune, department or centre (left out: unchanged)"""
    parent_code: AgencyId | None = None
    """The unit it belongs to (its electronic agency id) (left out: unchanged)"""
    valid_from: date | None = None
    """The first day it exists; null: always (left out: unchanged)"""
    valid_to: date | None = None
    """The last day it exists (a merged or dissolved unit); null: still (left out: unchanged)"""

    @field_validator("name", "aliases", "level")
    @classmethod
    def _not_cleared(cls, value: Any) -> Any:
        """Sent as null (a default is never checked): these a unit always has."""
        if value is None:
            raise ValueError("cannot be cleared")
        return value


class UnitOut(UnitIn):
    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    code: str
    """The unit's electronic agency id, e.g. 000.00.12.H42"""
    version: int
    """Bumped by every change"""
    updated_at: VnInstant
    """When it last changed"""


class UnitPage(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[UnitOut]
    """The units of this page, by code"""
    next_cursor: str | None
    """Pass as `cursor` for the next page; null on the last page"""


class UnitRecord(UnitIn):
    """One record of a bulk import: a unit with its code."""

    code: AgencyId = Field(examples=["000.00.12.H42"])


class ImportOutcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    rejected = "rejected"


class UnitImportResult(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    index: int
    """The record's position in the import (from 0)"""
    code: str | None
    """The record's code when it has one"""
    outcome: ImportOutcome
    """created, updated, unchanged or rejected"""
    errors: list[dict[str, Any]] = Field(default_factory=list)
    """Why it was rejected: one entry per field"""


class UnitGroupIn(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, str_strip_whitespace=True)

    name: Text = Field(min_length=1, max_length=300, examples=["UBND các xã, thị trấn"])
    """The name plans write for the group, e.g. UBND các xã, thị trấn"""
    aliases: list[Annotated[Text, Field(min_length=1, max_length=300)]] = Field(
        default_factory=list, max_length=50, examples=[["Các xã, thị trấn", "UBND cấp xã"]]
    )
    """Other names of the same group"""
    owner_code: AgencyId | None = Field(default=None, description="the unit whose plans use this name")
    member_level: UnitLevel | None = Field(
        default=None, description="every unit of this level under the owner is a member"
    )
    members: list[AgencyId] = Field(
        default_factory=list, max_length=10_000, description="unit codes that are members besides"
    )


class UnitGroupOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    code: str
    """The group's code"""
    name: str
    """The name plans write for it"""
    aliases: list[str]
    """Other names of it"""
    owner_code: str | None
    """The unit whose plans use this name"""
    member_level: UnitLevel | None
    """Every unit of this level under the owner is a member"""
    members: list[str] = Field(description="the listed members")
    resolved_members: list[str] = Field(description="every member unit, the level rule applied")
    version: int
    """Bumped by every change"""


class UnitGroupPage(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[UnitGroupOut]
    """The groups of this page, by code"""
    next_cursor: str | None
    """Pass as `cursor` for the next page; null on the last page"""


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
    model_config = ConfigDict(use_attribute_docstrings=True, str_strip_whitespace=True)

    issuer_code: AgencyId = Field(examples=["000.00.10.H42"])
    """The issuing unit's code"""
    number: Text | None = Field(default=None, max_length=100, examples=["183/KH-UBND"])
    """The plan's number, e.g. 183/KH-UBND"""
    title: Text = Field(min_length=1, max_length=500)
    """The plan's title"""
    issued_on: date | None = None
    """The day it was signed"""
    year: int = Field(ge=2000, le=2100)
    """The year it plans"""
    parent_id: Id | None = None
    """The plan it implements (the province's plan for a commune's)"""


class PlanOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    id: int
    """The plan's id"""
    issuer_code: str
    """The issuing unit's code"""
    number: str | None
    """The plan's number, e.g. 183/KH-UBND"""
    title: str
    """The plan's title"""
    issued_on: date | None
    """The day it was signed"""
    year: int
    """The year it plans"""
    parent_id: int | None
    """The plan it implements"""
    status: PlanStatus
    """draft, published (obligations and reminders run) or closed"""
    source_name: str | None
    """The file it was imported from"""
    progress: float
    """Rolled-up progress of its tasks, 0 to 100 (weighted)"""
    revision: int = Field(1, description="revision of its content: 1, then one more with each revised table")
    reminder_policy: str | None = Field(
        description='working-day offsets and hour its reminders are planned with ("5,1@7"); null until published'
    )
    version: int
    """Bumped by every change"""
    created_at: VnInstant
    """When it was created"""
    updated_at: VnInstant
    """When it last changed"""


class PlanRevisionOut(BaseModel):
    """One import of a plan's table."""

    model_config = ConfigDict(from_attributes=True)

    revision: int = Field(description="1 for the first table, one more with each revised one")
    status: PlanStatus = Field(description="the plan's status when this table was imported")
    source_name: str | None = Field(description="the file imported")
    source_sha256: str | None = Field(description="the content key of the table (SHA-256 of its rows as read)")
    changes: dict[str, int] | None = Field(
        description="rows_added, rows_changed, rows_removed, tasks_removed, tasks_rescheduled, obligations_withdrawn; "
        "null for an import made before revisions were kept"
    )
    imported_at: VnInstant = Field(description="when the table was imported")


class PlanRevisionList(BaseModel):
    items: list[PlanRevisionOut] = Field(description="the plan's imports, oldest first")


class PlanPage(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[PlanOut]
    """The plans of this page"""
    next_cursor: str | None
    """Pass as `cursor` for the next page; null on the last page"""


class ObligationOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    id: int
    """The obligation's id"""
    plan_id: int
    """Its plan"""
    node_id: int
    """The task or activity it comes from"""
    unit_code: str
    """The unit that owes it"""
    role: Role
    """lead (chủ trì) or coordinating (phối hợp)"""
    group_code: str | None
    """The group it is owed through (UBND các xã...), if any"""
    status: ProgressStatus
    """not_started, in_progress or done"""
    percent: float
    """How far along, 0 to 100"""
    note: str | None
    """What the unit reported"""
    evidence: list[str]
    """Links to the products that prove it"""
    due: date | None
    """When it is due; null for an ongoing or triggered duty"""
    completed_on: date | None
    """The day it was done"""
    on_time: bool | None
    """Done by its due date; null while open"""
    withdrawn_at: VnInstant | None = Field(description="when its unit left the group it owed this through")
    version: int
    """Bumped by every change (send it back to report progress)"""
    updated_at: VnInstant
    """When it last changed"""


class OccurrenceOut(BaseModel):
    """One due date of an obligation with its own progress; ``done_on`` is its completion date."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    id: int
    """The occurrence's id"""
    obligation_id: int
    """Its obligation"""
    unit_code: str
    """The unit that owes it"""
    due: date
    """Its due date"""
    status: ProgressStatus
    """not_started, in_progress or done"""
    percent: float
    """How far along, 0 to 100"""
    note: str | None
    """What the unit reported"""
    evidence: list[str]
    """Links to the products that prove it"""
    done_on: date | None
    """The day it was done"""
    on_time: bool | None
    """Done by its due date; null while open"""
    version: int
    """Bumped by every change (send it back to report progress)"""


class NodeOut(BaseModel):
    """A node of the plan tree with its obligations and rolled-up progress."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    id: int
    """The node's id"""
    parent_id: int | None
    """Its parent node; null for an area"""
    kind: NodeKind
    """area, objective, task or activity"""
    label: str | None
    """Its printed number (kept as printed)"""
    title: str
    """What it says"""
    line: int | None
    """The row of the imported table it came from"""
    product: str | None
    """Kết quả/sản phẩm: the product it must deliver"""
    budget_amount: Decimal | None
    """Its budget in đồng, when given as a number"""
    budget_text: str | None
    """Its budget as written"""
    note: str | None
    """Ghi chú: the note of its row"""
    schedule_raw: str | None
    """Tiến độ: its schedule as written"""
    schedule: dict[str, Any] | None
    """Its schedule parsed (kind, start, due, recurrence...); null when unparsed"""
    lead_raw: str | None
    """Chủ trì: its lead units as written"""
    coordinating_raw: str | None
    """Phối hợp: its coordinating units as written"""
    unmatched: list[str]
    """Agency names of its cells no unit or group matched"""
    weight: float
    """Its weight in its parent's progress"""
    progress: float
    """Its progress, 0 to 100, rolled up from its obligations and children"""
    implements_id: int | None = Field(description="the parent plan's task or activity this one implements")
    dues: list[date] = Field(description="the due dates its obligations owe")
    obligations: list[ObligationOut] = Field(default_factory=list)
    """What each unit owes for it"""
    children: list[NodeOut] = Field(default_factory=list)
    """Its child nodes"""


class PlanTree(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    plan: PlanOut
    """The plan"""
    areas: list[NodeOut]
    """Its areas, each with its objectives, tasks and activities"""


class NodeIn(BaseModel):
    """A node added by hand; cells are read as an imported row would be."""

    model_config = ConfigDict(use_attribute_docstrings=True, str_strip_whitespace=True)

    kind: NodeKind
    """area, objective, task or activity"""
    parent_id: Id | None = None
    """Its parent node; null for an area"""
    label: Text | None = Field(default=None, max_length=50)
    """Its printed number"""
    title: Text = Field(min_length=1, max_length=5000)
    """What it says"""
    schedule: Text | None = Field(default=None, max_length=1000, examples=["Trước 15/01/2024"])
    """Tiến độ, as a plan writes it (parsed to a typed schedule)"""
    lead: Text | None = Field(default=None, max_length=2000, examples=["Phòng Nội vụ"])
    """Chủ trì: the lead units, as a plan writes them"""
    coordinating: Text | None = Field(default=None, max_length=2000, examples=["UBND các xã, thị trấn"])
    """Phối hợp: the coordinating units"""
    product: Text | None = Field(default=None, max_length=5000)
    """The product it must deliver"""
    budget_amount: Amount | None = Field(default=None, ge=0)
    """Its budget in đồng"""
    budget_text: Text | None = Field(default=None, max_length=1000)
    """Its budget as written"""
    note: Text | None = Field(default=None, max_length=5000)
    """A note"""
    weight: Measure = Field(default=1.0, gt=0)
    """Its weight in its parent's progress"""
    implements_id: Id | None = Field(default=None, description="the parent plan's task or activity it implements")


class NodeUpdate(BaseModel):
    """A change of a node's schedule or of the parent plan's task it implements (a field left out
    stays as it is; ``implements_id: null`` removes the link)."""

    model_config = ConfigDict(use_attribute_docstrings=True, str_strip_whitespace=True)

    schedule: Text | None = Field(default=None, max_length=1000, examples=["Trước 31/01/2024"])
    """The new Tiến độ, as a plan writes it (its obligations' due dates follow)"""
    implements_id: Id | None = None
    """The parent plan's task it implements; null removes the link"""


class ProgressIn(BaseModel):
    """A progress report of an obligation or of one of its occurrences; ``version`` is the one the
    reporter read."""

    model_config = ConfigDict(use_attribute_docstrings=True, str_strip_whitespace=True)

    version: Id
    """The version the reporter read (409 when it changed since)"""
    status: ProgressStatus | None = None
    """not_started, in_progress or done"""
    percent: float | None = Field(default=None, ge=0, le=100)
    """How far along, 0 to 100"""
    note: Text | None = Field(default=None, max_length=5000)
    """What the unit reported"""
    evidence: list[HttpUrl] | None = None
    """Links to the products that prove it"""
    completed_on: date | None = None
    """The day it was done"""


class PlanImportIn(BaseModel):
    """What comes with an appendix table to import (multipart form fields, or GraphQL arguments)."""

    model_config = ConfigDict(use_attribute_docstrings=True, str_strip_whitespace=True)

    issuer: Text = Field(min_length=1, max_length=300, description="the issuing unit's code, name or alias")
    year: int = Field(ge=2000, le=2100)
    """The year the plan plans"""
    number: Text | None = Field(default=None, max_length=100)
    """The plan's number, e.g. 183/KH-UBND"""
    title: Text | None = Field(default=None, max_length=500)
    """The plan's title (the file's name without it)"""
    issued_on: date | None = None
    """The day it was signed"""


class ScheduleCounts(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    typed: int = 0
    """Schedules parsed to dates"""
    triggered: int = 0
    """Schedules waiting for an event (Khi có Thông tư mới...)"""
    unparsed: int = 0
    """Schedules kept as written and flagged"""


class UnitCounts(BaseModel):
    matched: int = Field(default=0, description="distinct agency names matched to a unit or group")
    unmatched: list[str] = Field(default_factory=list, description="agency names to map, in order of appearance")


class ImportReport(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    plan_id: int
    """The draft plan"""
    unchanged: bool = Field(
        description="true when this very table (the same rows, whatever the file format) was imported before: nothing was written"
    )
    rows_read: int
    """Rows read from the table"""
    areas_created: int = 0
    """Areas made"""
    objectives_created: int = 0
    """Objectives made"""
    tasks_created: int = 0
    """Tasks made"""
    activities_created: int = 0
    """Activities made"""
    obligations_created: int = 0
    """Obligations made (one per unit of each group named)"""
    targets_suggested: int = 0
    """Targets suggested from the text (to confirm)"""
    schedules: ScheduleCounts = Field(default_factory=ScheduleCounts)
    """How the schedules were read"""
    units: UnitCounts = Field(default_factory=UnitCounts)
    """How the agency names were matched"""
    rows_added: int = Field(0, description="rows not in the plan's previous import (all of them on a first import)")
    rows_changed: int = Field(0, description="rows with the same section, number and task as before but other cells")
    rows_removed: int = Field(0, description="rows of the previous import no longer in the table")
    revision: int = Field(1, description="the plan's revision this table is (1 for a first import)")
    tasks_removed: int = Field(0, description="a published plan's tasks and activities the revision removed")
    tasks_rescheduled: int = Field(
        0, description="a published plan's tasks and activities whose due dates moved (each with task.rescheduled)"
    )
    obligations_withdrawn: int = Field(
        0, description="obligations a published plan's revision withdrew (each with task.withdrawn)"
    )


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
    model_config = ConfigDict(use_attribute_docstrings=True, str_strip_whitespace=True)

    node_id: Id | None = Field(
        default=None, description="an area, objective or task of the plan; the plan itself when null"
    )
    metric_code: Text = Field(min_length=1, max_length=100, examples=["tthc.on_time_rate"])
    """The indicator it binds (scoring's codes, e.g. dossiers.on_time_rate)"""
    operator: TargetOperator
    """>=, >, <=, < or ="""
    value: Amount = Field(description="at most 10^15 in magnitude, kept to four decimals")
    unit: Text = Field(default="%", max_length=20)
    """The value's unit (%)"""
    strict: bool = Field(default=False, description='"trên X%": strictly more than X')
    level: UnitLevel | None = None
    """Only units of this level are bound; null: the plan's units"""
    period: Text = Field(min_length=1, max_length=20, examples=["2024"])
    """The period it covers: 2024, 2024-H1, 2024-Q1 or 2024-03"""

    @field_validator("value")
    @classmethod
    def _scale(cls, value: Decimal) -> Decimal:
        """Stored with four decimals: the same number in the answer, the event and the database."""
        return value.quantize(Decimal("0.0001"))


class TargetUpdate(TargetIn):
    model_config = ConfigDict(use_attribute_docstrings=True)

    version: Id
    """The version the editor read (409 when it changed since)"""


class TargetOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    id: int
    """The target's id"""
    plan_id: int
    """Its plan"""
    node_id: int | None
    """The node that sets it; null: the plan"""
    metric_code: str | None = Field(description="null on a suggestion whose metric was not recognised")
    operator: TargetOperator
    """>=, >, <=, < or ="""
    value: Decimal
    """The value to reach"""
    unit: str
    """The value's unit"""
    strict: bool
    """Strictly beyond the value (trên X%)"""
    level: UnitLevel | None
    """Only units of this level are bound"""
    period: str
    """The period it covers"""
    status: TargetStatus
    """suggested (read from the text, to confirm) or confirmed"""
    source_text: str | None
    """The sentence it was read from"""
    version: int
    """Bumped by every change"""


class OwedItem(BaseModel):
    """One due occurrence of an obligation, with what it is about."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    occurrence_id: int
    """The occurrence's id"""
    due: date
    """Its due date"""
    done_on: date | None
    """The day it was done"""
    overdue: bool
    """Past due and not done"""
    occurrence: OccurrenceOut
    """The occurrence"""
    obligation: ObligationOut
    """Its obligation"""
    plan_id: int
    """Its plan"""
    plan_number: str | None
    """The plan's number"""
    plan_title: str
    """The plan's title"""
    node_label: str | None
    """The task's printed number"""
    node_title: str
    """The task's title"""
    node_kind: NodeKind
    """task or activity"""


class OwedPage(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[OwedItem]
    """What the unit owes, by due date"""
    next_cursor: str | None
    """Pass as `cursor` for the next page; null on the last page"""


class TaskHit(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    id: int
    """The node's id"""
    plan_id: int
    """Its plan"""
    kind: NodeKind
    """task or activity"""
    label: str | None
    """Its printed number"""
    title: str
    """What it says"""
    schedule_raw: str | None
    """Its schedule as written"""
    progress: float
    """Its progress, 0 to 100"""


class TaskPage(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[TaskHit]
    """The tasks found"""
    next_cursor: str | None
    """Pass as `cursor` for the next page; null on the last page"""
