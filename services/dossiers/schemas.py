"""Pydantic input/output of the dossiers API (REST and the payloads GraphQL mirrors)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from services.dossiers.codes import Channel, Status, SubjectType, Timeliness
from shared.bounds import MAX_MAGNITUDE, Instant, Text
from shared.calendar import DurationUnit, OfficeHours, parse_moment, parse_window


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FeeIn(Strict):
    code: Text | None = Field(default=None, max_length=64)
    name: Text = Field(min_length=1, max_length=500)
    amount: float = Field(ge=0, le=MAX_MAGNITUDE, allow_inf_nan=False)


class ProcedureIn(Strict):
    name: Text = Field(min_length=1, max_length=1000, examples=["Đăng ký khai sinh"])
    field_code: Text | None = Field(default=None, max_length=64, examples=["G09"])
    field_name: Text | None = Field(default=None, max_length=500, examples=["Hộ tịch"])
    amount: float = Field(ge=0, le=3650, description="Legal processing time (0 days: the same day)", examples=[15])
    unit: DurationUnit = Field(examples=["working_days"])
    same_day_cutoff: bool = Field(default=False, description="Receipts after 15:00 count from the next working day")
    fees: list[FeeIn] = Field(default_factory=list, max_length=50)
    level: Literal["province", "commune", "department", "centre", "district"] | None = None


class ProcedureOut(ProcedureIn):
    model_config = ConfigDict(from_attributes=True)

    ma_tthc: str
    version: int
    updated_at: datetime


class ProcedurePage(BaseModel):
    items: list[ProcedureOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class CalendarDayIn(Strict):
    working: bool = Field(description="true: a working day (e.g. a make-up Saturday); false: a day off")
    reason: Text = Field(min_length=1, max_length=500, examples=["Nghỉ bù theo Thông báo của Bộ Nội vụ"])


class CalendarDayOut(BaseModel):
    date: date
    working: bool
    reason: str
    holiday: str | None = None
    updated_at: datetime | None = None


class CalendarYear(BaseModel):
    year: int
    non_working_weekdays: list[CalendarDayOut]
    working_weekend_days: list[CalendarDayOut]
    overrides: list[CalendarDayOut]


UnitCode = Annotated[str, StringConstraints(min_length=1, max_length=64)]  # as the units replica stores it


class OfficeHoursIn(Strict):
    windows: list[str] = Field(
        max_length=6,
        description="Working windows of a working day, in order, as HH:MM-HH:MM",
        examples=[["07:30-11:30", "13:00-17:00"]],
    )
    same_day_cutoff: str = Field(
        default="15:00",
        description="Receipts after it count from the next working day for procedures resolved the same day",
    )

    @field_validator("windows")
    @classmethod
    def _ordered_windows(cls, windows: list[str]) -> list[str]:
        """Each window well written and non-empty, each after the one before: written back as HH:MM-HH:MM."""
        if not windows:
            raise PydanticCustomError("office_hours", "Cần ít nhất một khung giờ làm việc.")
        parsed: list[tuple[time, time]] = []
        for number, text in enumerate(windows, 1):
            place = {"n": number, "text": text}
            try:
                start, end = parse_window(text)
            except ValueError:
                raise PydanticCustomError(
                    "office_hours", "Khung giờ thứ {n} ({text}) phải viết dạng HH:MM-HH:MM, ví dụ 07:30-11:30.", place
                ) from None
            if start >= end:
                raise PydanticCustomError(
                    "office_hours", "Khung giờ thứ {n} ({text}) phải bắt đầu trước khi kết thúc.", place
                )
            if parsed and start < parsed[-1][1]:
                message = "Khung giờ thứ {n} ({text}) phải bắt đầu sau khi khung giờ trước kết thúc (theo thứ tự, không chồng lấn)."
                raise PydanticCustomError("office_hours", message, place)
            parsed.append((start, end))
        return [f"{start:%H:%M}-{end:%H:%M}" for start, end in parsed]

    @field_validator("same_day_cutoff")
    @classmethod
    def _cutoff_in_office_hours(cls, cutoff: str, info: ValidationInfo) -> str:
        try:
            moment = parse_moment(cutoff)
        except ValueError:
            raise PydanticCustomError(
                "office_hours", "Giờ chốt nhận trong ngày phải viết dạng HH:MM, ví dụ 15:00."
            ) from None
        windows = info.data.get("windows")  # absent when they were refused
        if windows:
            opening, closing = parse_window(windows[0])[0], parse_window(windows[-1])[1]
            if not opening <= moment <= closing:
                span = {"opening": f"{opening:%H:%M}", "closing": f"{closing:%H:%M}"}
                raise PydanticCustomError(
                    "office_hours",
                    "Giờ chốt nhận trong ngày phải nằm trong giờ làm việc ({opening} đến {closing}).",
                    span,
                )
        return f"{moment:%H:%M}"

    def to_hours(self) -> OfficeHours:
        return OfficeHours.from_text(self.windows, self.same_day_cutoff)


# pydantic's own messages for what the office-hours validators never see (a list too long, a
# value of the wrong type, a field missing or unknown, a body that is not JSON), in Vietnamese
# like theirs. Keyed by the field (REST's "body."/"path." dropped, list positions as "*") and
# pydantic's error type, then by the type alone; the type and the field stay as pydantic gives them.
_FIELD_MESSAGES: dict[tuple[tuple[str, ...], str], str] = {
    (("windows",), "missing"): 'Cần các khung giờ làm việc (windows), ví dụ ["07:30-11:30", "13:00-17:00"].',
    (("windows",), "list_type"): 'Các khung giờ làm việc phải là một danh sách, ví dụ ["07:30-11:30", "13:00-17:00"].',
    (("windows",), "too_long"): "Nhiều nhất {max_length} khung giờ làm việc, nhận được {actual_length}.",
    (("windows", "*"), "string_type"): "Khung giờ thứ {n} phải là một chuỗi dạng HH:MM-HH:MM, ví dụ 07:30-11:30.",
    (("same_day_cutoff",), "string_type"): "Giờ chốt nhận trong ngày phải viết dạng HH:MM, ví dụ 15:00.",
    (("unit",), "string_too_short"): "Cần mã đơn vị.",
    (("unit",), "string_too_long"): "Mã đơn vị dài nhất {max_length} ký tự.",
}
_TYPE_MESSAGES = {
    "missing": "Thiếu trường bắt buộc này.",
    "extra_forbidden": "Không có trường này; hãy bỏ nó đi.",
    "list_type": "Phải là một danh sách.",
    "string_type": "Phải là một chuỗi ký tự.",
    "too_long": "Nhiều nhất {max_length} mục, nhận được {actual_length}.",
    "too_short": "Cần ít nhất {min_length} mục, nhận được {actual_length}.",
    "string_too_long": "Dài nhất {max_length} ký tự.",
    "string_too_short": "Cần ít nhất {min_length} ký tự.",
    "json_invalid": "Nội dung gửi lên không phải JSON hợp lệ.",
    "model_attributes_type": "Phải là một đối tượng JSON.",
    "model_type": "Phải là một đối tượng JSON.",
    "dict_type": "Phải là một đối tượng JSON.",
}


def in_vietnamese(errors: Sequence[ErrorDetails]) -> list[ErrorDetails]:
    """``errors`` (pydantic's, or FastAPI's for a request) with every message in Vietnamese: the
    validators' own (type ``office_hours``) already are."""
    return [error if error["type"] == "office_hours" else {**error, "msg": _vietnamese(error)} for error in errors]


def _vietnamese(error: ErrorDetails) -> str:
    loc = error["loc"][1:] if error["loc"][:1] in (("body",), ("path",)) else error["loc"]
    field = tuple("*" if isinstance(p, int) else p for p in loc)
    positions = [p for p in loc if isinstance(p, int)]
    template = _FIELD_MESSAGES.get((field, error["type"])) or _TYPE_MESSAGES.get(error["type"], "Giá trị không hợp lệ.")
    return template.format(**error.get("ctx", {}), n=positions[-1] + 1 if positions else "")


class OfficeHoursOut(BaseModel):
    unit: str
    windows: list[str]
    same_day_cutoff: str
    hours_per_day: float
    set_on: str | None = Field(
        description="The unit whose hours these are (this unit or the nearest ancestor with hours); null: the default hours"
    )
    updated_at: datetime | None = None


class DueOut(BaseModel):
    start: datetime
    counted_from: datetime
    due: datetime
    hours_set_on: str | None = Field(
        default=None, description="The unit whose office hours counted (with `unit_code`); null: the default hours"
    )


class ApplicantIn(Strict):
    name: Text = Field(min_length=1, max_length=300, examples=["Trần Văn Bình"])
    id_number: Text | None = Field(default=None, max_length=64)
    type: SubjectType = SubjectType.citizen
    email: EmailStr | None = None
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 .-]{6,20}$")
    address: Text | None = Field(default=None, max_length=500)


class DocumentIn(Strict):
    name: Text = Field(min_length=1, max_length=500)
    digitised: bool = False
    reused: bool = False


class IntakeIn(Strict):
    agency: str = Field(
        pattern=r"^[0-9A-Za-z.]{1,40}$", description="Electronic id of the receiving agency", examples=["000.00.12.H42"]
    )
    ma_tthc: Text = Field(min_length=1, max_length=64, examples=["1.001612"])
    channel: Channel = Channel.in_person
    applicant: ApplicantIn
    summary: Text | None = Field(default=None, max_length=2000)
    received_at: Instant | None = Field(default=None, description="Defaults to now")
    unit: Text | None = Field(default=None, max_length=64, description="Handling unit code when not the agency itself")
    documents: list[DocumentIn] = Field(default_factory=list, max_length=200)
    paid_online: Literal[0, 1, 2] | None = None


class TransitionIn(Strict):
    to: Status = Field(description="TrangThaiHoSo to move to", examples=[4])
    at: Instant | None = Field(default=None, description="Defaults to now")
    actor: Text | None = Field(default=None, max_length=300)
    note: Text | None = Field(default=None, max_length=2000)


class StatusStep(BaseModel):
    status: int
    label: str
    at: datetime | None
    source: str
    actor: str | None = None
    title: str | None = None
    department: str | None = None
    note: str | None = None


class Pause(BaseModel):
    requested_at: datetime | None
    resumed_at: datetime | None
    working_seconds: int | None
    due_before: datetime | None = None
    due_after: datetime | None = None


class LegalTime(BaseModel):
    amount: float
    unit: DurationUnit
    same_day: bool = False


class DueChange(BaseModel):
    due_at: datetime | None
    previous_due_at: datetime | None = None
    at: datetime | None
    reason: str
    legal_time: LegalTime | None = Field(
        default=None,
        description="On the initial due time of a dossier received here: the catalogue's legal time it was computed from",
    )


class DossierOut(BaseModel):
    ma_ho_so: str
    origin: str
    status: int
    status_label: str
    unit: str
    agency: str
    procedure: dict[str, Any]
    channel: int
    applicant: dict[str, Any]
    summary: str | None
    submitted_at: datetime | None
    received_at: datetime | None
    due_at: datetime | None
    original_due_at: datetime | None
    finished_at: datetime | None
    returned_at: datetime | None
    timeliness: Timeliness | None
    on_time: bool | None = Field(description="Finished early or on time (null while open)")
    rule_set: str
    supplement_count: int
    paid_online: int | None
    digitised: int | None
    pauses: list[Pause]
    status_history: list[StatusStep]
    due_history: list[DueChange]
    apology: dict[str, Any] | None
    documents: list[dict[str, Any]]
    fees: list[dict[str, Any]]
    result_papers: list[dict[str, Any]]
    extra: dict[str, Any]
    version: int
    updated_at: datetime

    @field_validator("status_history", mode="before")
    @classmethod
    def _labels(cls, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**s, "label": Status(s["status"]).label} for s in steps]


class DossierFilterIn(BaseModel):
    """The filters of the GraphQL dossier list, checked as the REST query is."""

    unit: Text | None = Field(default=None, max_length=64)
    status: list[Annotated[int, Field(ge=1, le=10)]] | None = None
    timeliness: list[Timeliness] | None = None
    procedure: Text | None = Field(default=None, max_length=64)
    channel: Channel | None = None
    received_from: Instant | None = None
    received_to: Instant | None = None
    due_from: Instant | None = None
    due_to: Instant | None = None


class DossierPage(BaseModel):
    items: list[DossierOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class SyncResult(BaseModel):
    index: int
    MaHoSo: str | None
    result: Literal["created", "updated", "unchanged", "rejected"]
    errors: list[dict[str, str]] = Field(default_factory=list)
    note: str | None = None


class SyncReport(BaseModel):
    service: str
    received: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    results: list[SyncResult]


class LetterIssuedIn(BaseModel):
    """What this service reads of notifications' ``vn.cchc.letter.issued.v1`` (DESIGN.md)."""

    ma_ho_so: str
    letter_id: str
    number: str
    issued_at: AwareDatetime
    new_due_at: AwareDatetime


class PushSecretOut(BaseModel):
    key_id: str
    secret: str = Field(description="whsec_…: shown this once; sign pushes with it (Standard Webhooks)")
    updated_at: datetime
    previous_until: datetime | None = Field(
        default=None, description="Until when the secret it replaced still verifies; null: there was none"
    )
