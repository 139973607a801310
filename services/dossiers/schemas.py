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
    PlainValidator,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from services.dossiers.codes import Channel, Status, SubjectType, Timeliness
from shared.bounds import MAX_MAGNITUDE, Day, FromInstant, Instant, Text, ToInstant
from shared.calendar import DurationUnit, OfficeHours, parse_moment, parse_window
from shared.instants import VnInstant


class Strict(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid", str_strip_whitespace=True)


class FeeIn(Strict):
    code: Text | None = Field(default=None, max_length=64)
    """Mã phí, lệ phí: the fee's code"""
    name: Text = Field(min_length=1, max_length=500)
    """Tên phí, lệ phí: the fee's name"""
    amount: float = Field(ge=0, le=MAX_MAGNITUDE, allow_inf_nan=False)
    """The amount in đồng"""


class ProcedureIn(Strict):
    name: Text = Field(min_length=1, max_length=1000, examples=["Đăng ký khai sinh"])
    """Tên TTHC: the procedure's name"""
    field_code: Text | None = Field(default=None, max_length=64, examples=["G09"])
    """Mã lĩnh vực: the code of its field"""
    field_name: Text | None = Field(default=None, max_length=500, examples=["Hộ tịch"])
    """Tên lĩnh vực: the field's name"""
    amount: float = Field(ge=0, le=3650, description="Legal processing time (0 days: the same day)", examples=[15])
    unit: DurationUnit = Field(examples=["working_days"])
    """What `amount` counts: working_days (8 working hours each), working_hours, or days (calendar days, an end on a
    day off moves to the next working day)"""
    same_day_cutoff: bool = Field(default=False, description="Receipts after 15:00 count from the next working day")
    fees: list[FeeIn] = Field(default_factory=list, max_length=50)
    """The fees and charges the procedure levies"""
    level: Literal["province", "commune", "department", "centre", "district"] | None = None
    """The level of government that resolves it; null: any"""


class ProcedureOut(ProcedureIn):
    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    ma_tthc: str
    """Mã TTHC: the procedure's code in the national catalogue"""
    version: int
    """Bumped by every change"""
    updated_at: VnInstant
    """When it last changed"""


class ProcedurePage(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[ProcedureOut]
    """The procedures of this page, by MaTTHC"""
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class CalendarDayIn(Strict):
    working: bool = Field(description="true: a working day (e.g. a make-up Saturday); false: a day off")
    reason: Text = Field(min_length=1, max_length=500, examples=["Nghỉ bù theo Thông báo của Bộ Nội vụ"])
    """Why, as the announcement says it"""


class CalendarDayOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    date: date
    """The day"""
    working: bool
    """true: worked; false: off"""
    reason: str
    """Why (the holiday's name, or the override's reason)"""
    holiday: str | None = None
    """The public holiday it is, if any (from the VN holiday calendar)"""
    updated_at: VnInstant | None = None
    """When an administrator's override was last set; null for the built-in calendar"""


class CalendarYear(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    year: int
    """The year"""
    non_working_weekdays: list[CalendarDayOut]
    """Weekdays off: holidays, observed days and declared days off"""
    working_weekend_days: list[CalendarDayOut]
    """Saturdays or Sundays worked (make-up days)"""
    overrides: list[CalendarDayOut]
    """The days an administrator declared, worked or off"""


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
    model_config = ConfigDict(use_attribute_docstrings=True)

    unit: str
    """The unit asked about"""
    windows: list[str]
    """Working windows of a working day, as HH:MM-HH:MM"""
    same_day_cutoff: str
    """Receipts after it count from the next working day for procedures resolved the same day (HH:MM)"""
    hours_per_day: float
    """Working hours in a day (the windows' total): a working day is this many hours"""
    set_on: str | None = Field(
        description="The unit whose hours these are (this unit or the nearest ancestor with hours); null: the default hours"
    )
    updated_at: VnInstant | None = None
    """When the hours were last set; null for the default ones"""


class DueOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    start: VnInstant
    """The start asked about"""
    counted_from: VnInstant
    """When the count starts: the next opening of the office when the start is outside its hours"""
    due: VnInstant
    """When the duration ends (a due time on a window's close is written as that close)"""
    hours_set_on: str | None = Field(
        default=None, description="The unit whose office hours counted (with `unit_code`); null: the default hours"
    )


class ApplicantIn(Strict):
    name: Text = Field(min_length=1, max_length=300, examples=["Trần Văn Bình"])
    """Chủ hồ sơ: the applicant's full name"""
    id_number: Text | None = Field(default=None, max_length=64)
    """Số giấy tờ: the applicant's identity number"""
    type: SubjectType = SubjectType.citizen
    """Loại đối tượng: 1 citizen, 2 business, 3 state body, 4 other organisation"""
    email: EmailStr | None = None
    """Where an apology letter can go"""
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 .-]{6,20}$")
    """The applicant's phone number"""
    address: Text | None = Field(default=None, max_length=500)
    """The applicant's address (printed on an apology letter)"""


class DocumentIn(Strict):
    name: Text = Field(min_length=1, max_length=500)
    """The document's name"""
    digitised: bool = False
    """Digitised at the desk (QĐ 766 digitisation)"""
    reused: bool = False
    """Taken from digitised data instead of asking again"""


class IntakeIn(Strict):
    agency: str = Field(
        pattern=r"^[0-9A-Za-z.]{1,40}$", description="Electronic id of the receiving agency", examples=["000.00.12.H42"]
    )
    ma_tthc: Text = Field(min_length=1, max_length=64, examples=["1.001612"])
    """Mã TTHC: the procedure, as registered in the catalogue (its legal time gives the due time)"""
    channel: Channel = Channel.in_person
    """Kênh thực hiện: 1 in person, 2 online, 3 by public post"""
    applicant: ApplicantIn
    """Who submits it"""
    summary: Text | None = Field(default=None, max_length=2000)
    """Trích yếu: what the dossier asks for"""
    received_at: Instant | None = Field(default=None, description="Defaults to now")
    unit: Text | None = Field(default=None, max_length=64, description="Handling unit code when not the agency itself")
    documents: list[DocumentIn] = Field(default_factory=list, max_length=200)
    """The documents submitted"""
    paid_online: Literal[0, 1, 2] | None = None
    """Được thanh toán trực tuyến: 0 not paid online, 1 on the national portal, 2 through a local payment portal"""


class TransitionIn(Strict):
    to: Status = Field(description="TrangThaiHoSo to move to", examples=[4])
    at: Instant | None = Field(default=None, description="Defaults to now")
    actor: Text | None = Field(default=None, max_length=300)
    """Who acted (recorded in the status history)"""
    note: Text | None = Field(default=None, max_length=2000)
    """Why, or what was done"""


class StatusStep(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    status: int
    """TrangThaiHoSo reached (1 to 10)"""
    label: str
    """The status's Vietnamese name"""
    at: VnInstant | None
    """When"""
    source: str
    """Where the step is known from: intake (this desk), sync (a synced record's timestamps) or progress
    (CapNhatTienDoHoSoMC)"""
    actor: str | None = None
    """Who acted (NguoiXuLy)"""
    title: str | None = None
    """The actor's title (ChucDanh)"""
    department: str | None = None
    """The department (PhongBanXuLy)"""
    note: str | None = None
    """What was done (NoiDungXuLy)"""


class Pause(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    requested_at: VnInstant | None
    """When the documents were asked for: the clock stops"""
    resumed_at: VnInstant | None
    """When they came back: the clock runs again; null while waiting"""
    working_seconds: int | None
    """Working time spent waiting, which moves the due time; null while waiting"""
    due_before: VnInstant | None = None
    """The due time before this pause moved it"""
    due_after: VnInstant | None = None
    """The due time after it"""


class LegalTime(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    amount: float
    """How much time the law gives"""
    unit: DurationUnit
    """working_days, working_hours or days"""
    same_day: bool = False
    """Receipts after the same-day cut-off count from the next working day"""


class DueChange(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    due_at: VnInstant | None
    """The due time given"""
    previous_due_at: VnInstant | None = None
    """The due time it replaced"""
    at: VnInstant | None
    """When it was given"""
    reason: str
    """Why: initial, supplement (a pause moved it), apology (a letter's new date), partner_update (the
    provincial record moved it), office_hours or calendar_day (derived again after the hours or the days
    worked changed)"""
    legal_time: LegalTime | None = Field(
        default=None,
        description="On the initial due time of a dossier received here: the catalogue's legal time it was computed from",
    )


_DAY: TypeAdapter[date] = TypeAdapter(Day)
_INSTANT: TypeAdapter[datetime] = TypeAdapter(Instant)


def _today_or_day(value: object) -> date | Literal["today"]:
    """``today`` or a day YYYY-MM-DD in the bounds of every filter; anything else is one error."""
    return _read(value, (_DAY,), "`today` or a date YYYY-MM-DD")


def _today_day_or_instant(value: object) -> datetime | date | Literal["today"]:
    """``today``, a day YYYY-MM-DD (a text of ten characters) or an instant with its offset."""
    adapters = (_DAY,) if isinstance(value, str) and len(value) == 10 else (_INSTANT,)
    return _read(value, adapters, "`today`, a date YYYY-MM-DD or an instant with its offset")


def _read(value: object, adapters: tuple[TypeAdapter[Any], ...], takes: str) -> Any:
    if value == "today":
        return "today"
    for adapter in adapters:
        try:
            return adapter.validate_python(value)
        except ValidationError:
            continue
    raise PydanticCustomError("today_or_day", "expected {takes}, in 2000 to 2099", {"takes": takes})


ApologyDay = Annotated[
    date | Literal["today"],
    PlainValidator(_today_or_day),
    WithJsonSchema({"anyOf": [{"type": "string", "enum": ["today"]}, {"type": "string", "format": "date"}]}),
]
ApologyBefore = Annotated[
    datetime | date | Literal["today"],
    PlainValidator(_today_day_or_instant),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "enum": ["today"]},
                {"type": "string", "format": "date"},
                {"type": "string", "format": "date-time"},
            ]
        }
    ),
]
APOLOGY_DUE = "`today` or YYYY-MM-DD: the open dossiers whose apology letter is due that day (Vietnam time)"
APOLOGY_DUE_BEFORE = (
    "`today`, YYYY-MM-DD (up to the end of that day, Vietnam time) or an instant (before it): the open dossiers "
    "whose apology letter is due by then, the missed ones included"
)


class Apology(BaseModel):
    """The apology letter notifications issued for the dossier, recorded once with the due time it replaced."""

    letter_id: str = Field(description="The letter's id in the notifications service")
    number: str = Field(description="The letter's number, e.g. 12/PXL")
    issued_at: VnInstant = Field(description="When the letter was issued")
    old_due_at: VnInstant | None = Field(default=None, description="The due time before the letter's new date")


class DossierOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    ma_ho_so: str
    """Mã hồ sơ: the national id, <agency>-YYMMDD-<sequence>"""
    origin: str
    """intake (received at this desk) or sync (from the provincial system)"""
    status: int
    """Trạng thái hồ sơ (TrangThaiHoSo): 1 to 10"""
    status_label: str
    """The status's Vietnamese name"""
    unit: str
    """The handling unit's code"""
    agency: str
    """The receiving agency's electronic id (the first part of MaHoSo)"""
    procedure: dict[str, Any]
    """The procedure: code (MaTTHC), name, field_code, field_name"""
    channel: int
    """Kênh thực hiện: 1 in person, 2 online, 3 by public post"""
    applicant: dict[str, Any]
    """The applicant (personal data): name, id_number, type, email, phone, address"""
    summary: str | None
    """Trích yếu: what the dossier asks for"""
    submitted_at: VnInstant | None
    """When it was submitted (NgayNopHoSo)"""
    received_at: VnInstant | None
    """When the desk received it (NgayTiepNhan)"""
    due_at: VnInstant | None
    """The due time in force (NgayHenTra, moved by supplements or an apology)"""
    original_due_at: VnInstant | None
    """The due time first promised"""
    finished_at: VnInstant | None
    """End of processing (the QĐ 766 rule: processed, else returned, else refused, stopped or withdrawn)"""
    returned_at: VnInstant | None
    """When the result was handed back (NgayTra)"""
    timeliness: Timeliness | None
    """open_on_track, open_due_soon (the apology is due), open_overdue, early, on_time or late"""
    on_time: bool | None = Field(description="Finished early or on time (null while open)")
    rule_set: str
    """The rules its deadlines follow: nd61_2018, or nd118_2025 for receipts from 1 July 2025"""
    supplement_count: int
    """How many times more documents were asked for (more than one makes it late)"""
    paid_online: int | None
    """Được thanh toán trực tuyến: 0, 1 (national portal) or 2 (local portal)"""
    digitised: int | None
    """Hồ sơ có thành phần số hóa: 1 when it has digitised components"""
    pauses: list[Pause]
    """The supplement requests and the working time each paused"""
    status_history: list[StatusStep]
    """Each status it went through, in order"""
    due_history: list[DueChange]
    """Each due time it was given and why"""
    apology: Apology | None
    """The apology letter recorded with its new date (once only); null without one"""
    apology_due_at: VnInstant | None = Field(
        description="When the apology letter is due (one working day before due_at) while one may be owed: "
        "open, not waiting for the applicant, no letter issued yet; null otherwise"
    )
    documents: list[dict[str, Any]]
    """TaiLieuNop: the documents submitted, as received"""
    fees: list[dict[str, Any]]
    """DanhSachLePhi: the fees, as received"""
    result_papers: list[dict[str, Any]]
    """DanhSachGiayToKetQua: the result papers, as received"""
    extra: dict[str, Any]
    """Fields of the provincial record this service does not read, kept as received"""
    version: int
    """Bumped by every change"""
    updated_at: VnInstant
    """When it last changed"""

    @field_validator("status_history", mode="before")
    @classmethod
    def _labels(cls, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**s, "label": Status(s["status"]).label} for s in steps]


class DossierFilterIn(BaseModel):
    """The filters of the GraphQL dossier list, checked as the REST query is."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    unit: Text | None = Field(default=None, max_length=64)
    status: list[Annotated[int, Field(ge=1, le=10)]] | None = None
    timeliness: list[Timeliness] | None = None
    procedure: Text | None = Field(default=None, max_length=64)
    channel: Channel | None = None
    received_from: FromInstant | None = None
    received_to: ToInstant | None = None
    due_from: FromInstant | None = None
    due_to: ToInstant | None = None
    apology_due: ApologyDay | None = Field(default=None, description=APOLOGY_DUE)
    apology_due_before: ApologyBefore | None = Field(default=None, description=APOLOGY_DUE_BEFORE)


class DossierPage(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[DossierOut]
    """The dossiers of this page, by MaHoSo"""
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class SyncResult(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    index: int
    """The record's position in the batch (from 0)"""
    MaHoSo: str | None
    """The record's MaHoSo when it has one"""
    result: Literal["created", "updated", "unchanged", "rejected"]
    """created, updated, unchanged (a resend or an older copy) or rejected"""
    errors: list[dict[str, str]] = Field(default_factory=list)
    """Why it was rejected: one entry per field ({field, message})"""
    note: str | None = None
    """Why it was unchanged or what was kept, when worth saying"""


class SyncReport(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    service: str
    """DongBoHoSoMC or CapNhatTienDoHoSoMC, as sent"""
    received: int
    """Records in the batch"""
    created: int
    """Records that made a new dossier"""
    updated: int
    """Records that changed a dossier"""
    unchanged: int
    """Resends and older copies"""
    rejected: int
    """Records refused (see their errors)"""
    results: list[SyncResult]
    """One answer per record, in the batch's order"""


class LetterIssuedIn(BaseModel):
    """What this service reads of notifications' ``vn.cchc.letter.issued.v1`` (its schema: docs/asyncapi.json)."""

    ma_ho_so: str
    letter_id: str
    number: str
    issued_at: AwareDatetime
    new_due_at: AwareDatetime


class PushSecretOut(BaseModel):
    key_id: str = Field(description="The integration API key's id")
    secret: str = Field(description="whsec_…: shown this once; sign pushes with it (Standard Webhooks)")
    updated_at: VnInstant = Field(description="When the secret was set")
    previous_until: VnInstant | None = Field(
        default=None, description="Until when the secret it replaced still verifies; null: there was none"
    )
