"""The national sync format (DongBoHoSoMC / CapNhatTienDoHoSoMC) read record by record.

Field names are the national ones, so a partner's payload validates as is. Timestamps are
``yyyyMMddHHmmss`` strings in Vietnam time; an empty string means "not set". Unknown fields are
kept (``extra="allow"``), never dropped. :func:`read_records` turns a batch into accepted models and
per-record field errors, so one bad record never sinks the others.

The format is read as strictly as partners write it: codes are JSON integers (``4``, not ``"4"``,
``4.0`` or ``true``), text carries no control or bidirectional-override characters, and every
instant lies in [2000-01-01, 2100-01-01); an instant that records something done (received,
finished, a progress step) may lie at most a tolerance past now (``latest``), while a due date may
lie years ahead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from typing_extensions import TypedDict

from services.dossiers.codes import Channel, Status, SubjectType
from shared.bounds import MAX_MAGNITUDE, NO_CONTROL, control_message
from shared.clock import VN_OFFSET
from shared.pacing import paced

MAX_SEQUENCE_DIGITS = 8  # a daily sequence per agency: 4 digits at least, 8 (10^8 a day) at most
MA_HO_SO = re.compile(r"^(?P<agency>[0-9A-Za-z.]{1,40})-(?P<day>\d{6})-(?P<seq>\d{4,%d})$" % MAX_SEQUENCE_DIGITS)
SERVICES = ("DongBoHoSoMC", "CapNhatTienDoHoSoMC")
# One batch of each service, as a partner sends it (the OpenAPI's examples).
EXAMPLES = {s: orjson.loads((Path(__file__).parent / "examples" / f"{s.lower()}.json").read_bytes()) for s in SERVICES}
EARLIEST_TEXT, LATEST_TEXT = "20000101000000", "21000101000000"  # shared.bounds' range, as the format writes it


def parse_timestamp(value: object) -> datetime | None:
    """``yyyyMMddHHmmss`` (Vietnam time) in [2000-01-01, 2100-01-01) to an aware instant;
    ``""``/``None`` to ``None``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("the instant has no time zone")
        value = format_timestamp(value)
    if type(value) is not str:
        raise ValueError(f"expected a yyyyMMddHHmmss string, got {type(value).__name__}")
    if len(value) != 14 or not (value.isascii() and value.isdigit()):
        raise ValueError(f"expected yyyyMMddHHmmss (14 digits), got {value[:40]!r}")
    if not EARLIEST_TEXT <= value < LATEST_TEXT:  # 14 digits compare as the instants they write
        raise ValueError(f"{value} is outside the years 2000 to 2099")
    try:  # fromisoformat is the fastest parser at hand (a batch holds thousands of these)
        return datetime.fromisoformat(f"{value[:8]}T{value[8:]}+07:00")
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a real date and time ({exc})") from None


def parse_past_timestamp(value: object, info: ValidationInfo) -> datetime | None:
    """:func:`parse_timestamp` of something that happened: no later than the batch's ``latest``
    (now plus the tolerance) when the reader gives one."""
    instant = parse_timestamp(value)
    latest = info.context.get("latest") if info.context else None
    if instant is not None and latest is not None and instant > latest:
        raise ValueError(f"{format_timestamp(instant)} is in the future (later than {format_timestamp(latest)})")
    return instant


def format_timestamp(instant: datetime | None) -> str:
    return "" if instant is None else instant.astimezone(VN_OFFSET).strftime("%Y%m%d%H%M%S")


def _empty_to_none(value: object) -> object:
    return None if value == "" else value


def _integer(value: object) -> object:
    """A code is a JSON integer: ``"4"``, ``4.0`` and ``true`` are refused, as the format is strict."""
    if value is not None and type(value) is not int:
        raise ValueError(f"expected an integer code, got {type(value).__name__} {str(value)[:20]!r}")
    return value


def _optional_integer(value: object) -> object:
    return _integer(_empty_to_none(value))


def _number(value: object) -> object:
    if value is not None and (type(value) is bool or not isinstance(value, int | float)):
        raise ValueError(f"expected a number, got {type(value).__name__}")
    return value


# What the OpenAPI says of a timestamp: the format's text, not the instant it is read into.
TIMESTAMP_TEXT = {"type": "string", "pattern": r"^(\d{14})?$", "examples": ["20240415091500"]}
TIMESTAMP_SCHEMA = WithJsonSchema({"anyOf": [TIMESTAMP_TEXT, {"type": "null"}]})

Price = Annotated[float, Field(ge=0, le=MAX_MAGNITUDE)]
Timestamp = Annotated[datetime | None, BeforeValidator(parse_timestamp), TIMESTAMP_SCHEMA]  # may lie years ahead
Happened = Annotated[datetime | None, BeforeValidator(parse_past_timestamp), TIMESTAMP_SCHEMA]
Flag = Annotated[Literal[0, 1] | None, BeforeValidator(_optional_integer)]
Text = Annotated[str | None, Field(max_length=2000, pattern=NO_CONTROL)]
Code = Annotated[str | None, Field(max_length=64, pattern=NO_CONTROL)]


# The items of a dossier's lists are validated as dicts and stored as validated (unknown fields
# kept); only supplements, which the deadlines depend on, become models. Every model of the format
# documents its fields with attribute docstrings (they become the OpenAPI's descriptions).
ITEM_CONFIG = ConfigDict(extra="allow", use_attribute_docstrings=True)


class Document(TypedDict, total=False):
    """TaiLieuNop: one document the applicant submitted (other fields, e.g. MaThanhPhanHoSo, are kept as sent)."""

    __pydantic_config__ = ITEM_CONFIG  # type: ignore[misc]
    TepDinhKemId: Code
    """Mã tệp đính kèm: the file's id in the provincial system."""
    TenTepDinhKem: Text
    """Tên tệp đính kèm: the file's name."""
    DuocSoHoa: Flag
    """Được số hóa: 1 when the paper was digitised at the desk, 0 otherwise (QĐ 766 digitisation)."""
    DuocTaiSuDung: Flag
    """Được tái sử dụng: 1 when digitised data was reused instead of asking the applicant again."""
    DuocLayTuKhoDMQG: Flag
    """Được lấy từ kho DMQG: 1 when taken from the national data store (Kho dữ liệu)."""


class Fee(TypedDict, total=False):
    """DanhSachLePhi: one fee or charge of the dossier (other fields, e.g. HinhThucThu, are kept as sent)."""

    __pydantic_config__ = ITEM_CONFIG  # type: ignore[misc]
    TenPhiLePhi: Text
    """Tên phí, lệ phí: the fee's name."""
    MaPhiLePhi: Code
    """Mã phí, lệ phí: the fee's code."""
    Gia: Annotated[Price | None, BeforeValidator(_number), BeforeValidator(_empty_to_none)]  # the last runs first
    """Giá: the amount in đồng (a number ≥ 0)."""


class ResultPaper(TypedDict, total=False):
    """DanhSachGiayToKetQua: one paper the dossier resulted in (other fields, e.g. MaGiayToKetQua, are kept as sent)."""

    __pydantic_config__ = ITEM_CONFIG  # type: ignore[misc]
    TenGiayTo: Text
    """Tên giấy tờ: the paper's name, e.g. Giấy phép xây dựng."""
    DuongDanTepTinKetQua: Text
    """Đường dẫn tệp tin kết quả: where the result file can be fetched."""


class Supplement(BaseModel):
    """DanhSachHoSoBoSung: one request for more documents (yêu cầu bổ sung). The clock of the dossier
    stops from NgayBoSung to NgayTiepNhanBoSung; more than one request makes the dossier late (QĐ 766).
    Other fields (NguoiYeuCauBoSung, NoiDungBoSung, TrangThaiBoSung...) are kept as sent."""

    model_config = ITEM_CONFIG

    HoSoBoSungId: Code = None
    """Mã yêu cầu bổ sung: the request's id in the provincial system."""
    NgayBoSung: Happened = None
    """Ngày yêu cầu bổ sung: when the documents were asked for (yyyyMMddHHmmss, Vietnam time; empty: not set); the clock pauses here."""
    NgayTiepNhanBoSung: Happened = None
    """Ngày tiếp nhận bổ sung: when the documents came back (yyyyMMddHHmmss, Vietnam time; empty: still
    waiting); the clock resumes here."""
    NgayHenTraTruoc: Timestamp = None
    """Ngày hẹn trả trước: the due time before this request moved it (yyyyMMddHHmmss, Vietnam time)."""
    NgayHenTraMoi: Timestamp = None
    """Ngày hẹn trả mới: the due time this request moved it to (yyyyMMddHHmmss, Vietnam time); the latest
    one is the due time in force."""


class HoSo(BaseModel):
    """HoSo: one dossier (hồ sơ TTHC) as the provincial one-stop system sends it. Fields outside
    this list are kept as sent (returned in the dossier's ``extra``), never dropped."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True, use_attribute_docstrings=True)

    MaHoSo: str = Field(min_length=1, max_length=64)
    """Mã hồ sơ: the dossier's national id, ``<agency electronic id>-YYMMDD-<daily sequence of 4 to 8
    digits>``, e.g. 000.00.12.H42-240415-0007; the key a resend updates."""
    MaTTHC: str = Field(min_length=1, max_length=64, pattern=NO_CONTROL)
    """Mã thủ tục hành chính: the procedure's code in the national catalogue, e.g. 1.001612."""
    TenTTHC: Text = None
    """Tên thủ tục hành chính: the procedure's name, e.g. Đăng ký khai sinh."""
    MaLinhVuc: Code = None
    """Mã lĩnh vực: the code of the procedure's field, e.g. G09."""
    TenLinhVuc: Text = None
    """Tên lĩnh vực: the field's name, e.g. Hộ tịch."""
    KenhThucHien: Annotated[
        Channel, BeforeValidator(lambda v: Channel.in_person if v in ("", None) else _integer(v))
    ] = Channel.in_person
    """Kênh thực hiện: 1 in person (trực tiếp), 2 online (trực tuyến), 3 by public post (bưu chính
    công ích); empty counts as 1."""
    ChuHoSo: Text = None
    """Chủ hồ sơ: the applicant's full name (personal data)."""
    SoGiayToChuHoSo: Code = None
    """Số giấy tờ chủ hồ sơ: the applicant's identity number (personal data)."""
    LoaiDoiTuong: Annotated[SubjectType | None, BeforeValidator(_optional_integer)] = None
    """Loại đối tượng: 1 citizen, 2 business, 3 state body, 4 other organisation."""
    MaDoiTuong: Code = None
    """Mã đối tượng: the applicant's code in the provincial system."""
    Email: str | None = Field(default=None, max_length=320, pattern=NO_CONTROL)
    """Thư điện tử: the applicant's e-mail address (personal data), where an apology letter goes."""
    SoDienThoai: str | None = Field(default=None, max_length=32, pattern=NO_CONTROL)
    """Số điện thoại: the applicant's phone number (personal data)."""
    DiaChiChuHoSo: Text = None
    """Địa chỉ chủ hồ sơ: the applicant's address (personal data); not in the national list, read when
    a partner sends it."""
    TrichYeuHoSo: Text = None
    """Trích yếu hồ sơ: what the dossier asks for, in a sentence."""
    NgayNopHoSo: Happened = None
    """Ngày nộp hồ sơ: when the applicant submitted it (yyyyMMddHHmmss, Vietnam time; empty: not set); at most the tolerance past now."""
    NgayTiepNhan: Happened = None
    """Ngày tiếp nhận: when the desk received it (yyyyMMddHHmmss, Vietnam time; empty: not set); required from TrangThaiHoSo 2 on. It decides
    the rule set (NĐ 61/2018 before 1 July 2025, NĐ 118/2025 from then)."""
    NgayHenTra: Timestamp = None
    """Ngày hẹn trả: the due time promised to the applicant (yyyyMMddHHmmss, Vietnam time; empty: not set); required from TrangThaiHoSo 2 on,
    not before NgayTiepNhan. A supplement's NgayHenTraMoi may move it later."""
    TrangThaiHoSo: Annotated[Status, BeforeValidator(_integer)]
    """Trạng thái hồ sơ: 1 Mới đăng ký, 2 Được tiếp nhận, 3 Không được tiếp nhận, 4 Đang xử lý, 5 Yêu cầu
    bổ sung giấy tờ, 6 Yêu cầu thực hiện nghĩa vụ tài chính, 7 Công dân yêu cầu rút hồ sơ, 8 Dừng xử lý,
    9 Đã xử lý xong, 10 Đã trả kết quả (a JSON integer)."""
    NgayTra: Happened = None
    """Ngày trả kết quả: when the result was handed back (yyyyMMddHHmmss, Vietnam time; empty: not set)."""
    HinhThuc: Annotated[Annotated[int, Field(ge=0, le=99)] | None, BeforeValidator(_optional_integer)] = None
    """Hình thức trả kết quả: how the result is handed back, the provincial system's code (0 to 99), kept as sent."""
    NgayKetThucXuLy: Happened = None
    """Ngày kết thúc xử lý: when processing ended (yyyyMMddHHmmss, Vietnam time; empty: not set); required once TrangThaiHoSo is 3, 7, 8, 9 or
    10 (unless NgayTuChoi or NgayTra says it). It decides on time or late: on time ⇔ ≤ the due time."""
    NgayTuChoi: Happened = None
    """Ngày từ chối: when the dossier was refused (TrangThaiHoSo 3) (yyyyMMddHHmmss, Vietnam time; empty: not set)."""
    DonViXuLy: Text = None
    """Đơn vị xử lý: the handling unit's name, matched to a registered unit (diacritics, case and "UBND"
    aside); when none or several fit, the agency in MaHoSo handles it."""
    NoiNopHoSo: Text = None
    """Nơi nộp hồ sơ: where it was submitted, e.g. Bộ phận một cửa UBND xã Cẩm Quang."""
    HoSoCoThanhPhanSoHoa: Flag = None
    """Hồ sơ có thành phần số hóa: 1 when the dossier has digitised components, 0 otherwise (QĐ 766)."""
    TaiKhoanDuocXacThucVoiVNeID: Flag = None
    """Tài khoản được xác thực với VNeID: 1 when the applicant's account was verified with VNeID, 0 otherwise."""
    DuocThanhToanTrucTuyen: Annotated[Literal[0, 1, 2] | None, BeforeValidator(_optional_integer)] = None
    """Được thanh toán trực tuyến: 0 not paid online, 1 paid online on the national portal (DVCQG), 2 paid
    through a local payment portal."""
    TaiLieuNop: list[Document] = Field(default_factory=list, max_length=500)
    """Tài liệu nộp: the documents submitted (at most 500)."""
    DanhSachLePhi: list[Fee] = Field(default_factory=list, max_length=100)
    """Danh sách lệ phí: the fees and charges (at most 100)."""
    DanhSachHoSoBoSung: list[Supplement] = Field(default_factory=list, max_length=100)
    """Danh sách hồ sơ bổ sung: the requests for more documents, in order (at most 100)."""
    DanhSachGiayToKetQua: list[ResultPaper] = Field(default_factory=list, max_length=100)
    """Danh sách giấy tờ kết quả: the papers the dossier resulted in (at most 100)."""

    @field_validator("MaHoSo")
    @classmethod
    def _national_pattern(cls, value: str) -> str:
        match = MA_HO_SO.match(value)
        if match is None:
            raise ValueError(
                f"expected <agency id>-YYMMDD-<sequence of 4 to {MAX_SEQUENCE_DIGITS} digits>, e.g. 000.00.15.H10-240101-0001"
            )
        day = match["day"]
        try:
            date(2000 + int(day[:2]), int(day[2:4]), int(day[4:6]))
        except ValueError:
            raise ValueError(f"YYMMDD part {day!r} is not a real date") from None
        return value

    @model_validator(mode="after")
    def _coherent_dates(self) -> HoSo:
        status = self.TrangThaiHoSo
        if status is not Status.registered and status is not Status.not_received:
            for name in ("NgayTiepNhan", "NgayHenTra"):
                if getattr(self, name) is None:
                    raise _field_error(name, f"required once the dossier is received (TrangThaiHoSo={int(status)})")
        if self.NgayHenTra and self.NgayTiepNhan and self.NgayHenTra < self.NgayTiepNhan:
            raise _field_error("NgayHenTra", "is before NgayTiepNhan")
        if status.is_finished and self.finished_at is None:
            raise _field_error(
                "NgayKetThucXuLy",
                f"required when TrangThaiHoSo={int(status)} (the end of processing decides timeliness)",
            )
        return self

    @property
    def agency(self) -> str:
        return self.MaHoSo.rsplit("-", 2)[0]

    @property
    def finished_at(self) -> datetime | None:
        """End of processing by the QĐ 766 rule: finished (9), else returned (10), else refused/stopped."""
        status = self.TrangThaiHoSo
        if status is Status.returned:
            return self.NgayKetThucXuLy or self.NgayTra
        if status is Status.not_received:
            return self.NgayTuChoi or self.NgayKetThucXuLy
        if status.is_finished:
            return self.NgayKetThucXuLy or self.NgayTuChoi
        return None

    @property
    def due_at(self) -> datetime | None:
        """The due time in force: NgayHenTra, or a later date a supplement episode moved it to."""
        moved = [s.NgayHenTraMoi for s in self.DanhSachHoSoBoSung if s.NgayHenTraMoi is not None]
        return max([self.NgayHenTra, *moved]) if moved and self.NgayHenTra else self.NgayHenTra

    @property
    def original_due_at(self) -> datetime | None:
        """The due time first promised, before any supplement moved it."""
        earlier = [s.NgayHenTraTruoc for s in self.DanhSachHoSoBoSung if s.NgayHenTraTruoc is not None]
        return earlier[0] if earlier else self.NgayHenTra

    @property
    def state_at(self) -> datetime | None:
        """The latest thing that happened to the dossier, to order copies of it."""
        stamps = [self.NgayNopHoSo, self.NgayTiepNhan, self.NgayKetThucXuLy, self.NgayTra, self.NgayTuChoi]
        for s in self.DanhSachHoSoBoSung:
            stamps += [s.NgayBoSung, s.NgayTiepNhanBoSung]
        return max(filter(None, stamps), default=None)


class TienDo(BaseModel):
    """TienDo: one processing step of a dossier (CapNhatTienDoHoSoMC), added to its status history;
    a step older than what the dossier already knows changes nothing. Other fields are kept as sent."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True, use_attribute_docstrings=True)

    MaHoSo: str = Field(min_length=1, max_length=64, pattern=NO_CONTROL)
    """Mã hồ sơ: the dossier the step belongs to (already synced with DongBoHoSoMC)."""
    NguoiXuLy: Text = None
    """Người xử lý: the official who acted (personal data)."""
    ChucDanh: Text = None
    """Chức danh: the official's title."""
    ThoiDiemXuLy: Annotated[datetime, BeforeValidator(parse_past_timestamp), WithJsonSchema(TIMESTAMP_TEXT)]
    """Thời điểm xử lý: when the step happened (yyyyMMddHHmmss, Vietnam time; required)."""
    PhongBanXuLy: Text = None
    """Phòng ban xử lý: the department that acted."""
    NoiDungXuLy: Text = None
    """Nội dung xử lý: what was done."""
    TrangThai: Annotated[Status, BeforeValidator(_integer)]
    """Trạng thái: the dossier's status after the step, a TrangThaiHoSo code (1 to 10)."""
    NgayBatDau: Happened = None
    """Ngày bắt đầu: when the step started (yyyyMMddHHmmss, Vietnam time; empty: not set)."""
    NgayKetThucTheoQuyDinh: Timestamp = None
    """Ngày kết thúc theo quy định: when the step must end by the rules (yyyyMMddHHmmss, Vietnam time; empty: not set)."""


class DongBoHoSoMC(BaseModel):
    """The DongBoHoSoMC batch: dossiers to create or update, each answered on its own."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    service: Literal["DongBoHoSoMC"]
    """The national service name."""
    isUpdating: bool = False
    """true when the batch updates dossiers sent before (every record is an upsert by MaHoSo either way)."""
    data: list[HoSo]
    """The dossiers (at most ``CCHC_DOSSIERS_SYNC_MAX_RECORDS``)."""


class CapNhatTienDoHoSoMC(BaseModel):
    """The CapNhatTienDoHoSoMC batch: processing steps of dossiers already synced."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    service: Literal["CapNhatTienDoHoSoMC"]
    """The national service name."""
    data: list[TienDo]
    """The steps (at most ``CCHC_DOSSIERS_SYNC_MAX_RECORDS``)."""


class _FieldError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _field_error(name: str, message: str) -> _FieldError:
    return _FieldError(name, message)


R = TypeVar("R", bound=BaseModel)


@dataclass
class Rejected:
    index: int
    ma_ho_so: str | None
    errors: list[dict[str, str]]


@dataclass
class ReadBatch(Generic[R]):
    """A batch split into valid records (with their index in the batch) and rejected ones."""

    accepted: list[tuple[int, R]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


async def read_records(
    data: Sequence[Any], model: type[R], *, unique: bool = True, latest: datetime | None = None
) -> ReadBatch[R]:
    """Validate each record on its own (the event loop served between slices of a large batch);
    with ``unique``, a MaHoSo seen earlier in the batch is rejected; with ``latest``, so is an
    instant of something done later than it."""
    batch: ReadBatch[R] = ReadBatch()
    first_index: dict[str, int] = {}
    context = {"latest": latest}
    validate: Callable[[Any], R] = lambda raw: model.model_validate(raw, context=context)  # noqa: E731
    async for index, raw in paced(enumerate(data)):
        key = raw.get("MaHoSo") if isinstance(raw, dict) else None
        key = key if isinstance(key, str) else None
        if not isinstance(raw, dict):
            batch.rejected.append(Rejected(index, None, [{"field": "", "message": "a record must be a JSON object"}]))
            continue
        if unique and key is not None and key in first_index:
            batch.rejected.append(
                Rejected(
                    index,
                    key,
                    [{"field": "MaHoSo", "message": f"duplicate in this batch (first at index {first_index[key]})"}],
                )
            )
            continue
        try:
            record = validate(raw)
        except ValidationError as exc:
            batch.rejected.append(Rejected(index, key, _errors(exc)))
            continue
        if key is not None:
            first_index[key] = index
        batch.accepted.append((index, record))
    return batch


def _errors(exc: ValidationError) -> list[dict[str, str]]:
    errors = []
    for err in exc.errors():
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, _FieldError):
            errors.append({"field": cause.field, "message": cause.message})
            continue
        message = control_message(err["type"], err.get("ctx", {}).get("pattern")) or err["msg"].removeprefix(
            "Value error, "
        )
        errors.append({"field": ".".join(str(p) for p in err["loc"]), "message": message})
    return errors
