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
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from typing_extensions import TypedDict

from services.dossiers.codes import Channel, Status, SubjectType
from shared.bounds import MAX_MAGNITUDE, NO_CONTROL, control_message

VN_OFFSET = timezone(timedelta(hours=7), "+07")  # Vietnam keeps no daylight saving time
MAX_SEQUENCE_DIGITS = 8  # a daily sequence per agency: 4 digits at least, 8 (10^8 a day) at most
MA_HO_SO = re.compile(r"^(?P<agency>[0-9A-Za-z.]{1,40})-(?P<day>\d{6})-(?P<seq>\d{4,%d})$" % MAX_SEQUENCE_DIGITS)
SERVICES = ("DongBoHoSoMC", "CapNhatTienDoHoSoMC")
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


Price = Annotated[float, Field(ge=0, le=MAX_MAGNITUDE)]
Timestamp = Annotated[datetime | None, BeforeValidator(parse_timestamp)]  # a due date: may lie years ahead
Happened = Annotated[datetime | None, BeforeValidator(parse_past_timestamp)]
Flag = Annotated[Literal[0, 1] | None, BeforeValidator(_optional_integer)]
Text = Annotated[str | None, Field(max_length=2000, pattern=NO_CONTROL)]
Code = Annotated[str | None, Field(max_length=64, pattern=NO_CONTROL)]


# The items of a dossier's lists are validated as dicts and stored as validated (unknown fields
# kept); only supplements, which the deadlines depend on, become models.
ITEM_CONFIG = ConfigDict(extra="allow")


class Document(TypedDict, total=False):
    __pydantic_config__ = ITEM_CONFIG  # type: ignore[misc]
    TepDinhKemId: Code
    TenTepDinhKem: Text
    DuocSoHoa: Flag
    DuocTaiSuDung: Flag
    DuocLayTuKhoDMQG: Flag


class Fee(TypedDict, total=False):
    __pydantic_config__ = ITEM_CONFIG  # type: ignore[misc]
    TenPhiLePhi: Text
    MaPhiLePhi: Code
    Gia: Annotated[Price | None, BeforeValidator(_number), BeforeValidator(_empty_to_none)]  # the last runs first


class ResultPaper(TypedDict, total=False):
    __pydantic_config__ = ITEM_CONFIG  # type: ignore[misc]
    TenGiayTo: Text
    DuongDanTepTinKetQua: Text


class Supplement(BaseModel):
    model_config = ITEM_CONFIG

    HoSoBoSungId: Code = None
    NgayBoSung: Happened = None
    NgayTiepNhanBoSung: Happened = None
    NgayHenTraTruoc: Timestamp = None
    NgayHenTraMoi: Timestamp = None


class HoSo(BaseModel):
    """One dossier as the provincial system sends it."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    MaHoSo: str = Field(min_length=1, max_length=64)
    MaTTHC: str = Field(min_length=1, max_length=64, pattern=NO_CONTROL)
    TenTTHC: Text = None
    MaLinhVuc: Code = None
    TenLinhVuc: Text = None
    KenhThucHien: Annotated[
        Channel, BeforeValidator(lambda v: Channel.in_person if v in ("", None) else _integer(v))
    ] = Channel.in_person
    ChuHoSo: Text = None
    SoGiayToChuHoSo: Code = None
    LoaiDoiTuong: Annotated[SubjectType | None, BeforeValidator(_optional_integer)] = None
    MaDoiTuong: Code = None
    Email: str | None = Field(default=None, max_length=320, pattern=NO_CONTROL)
    SoDienThoai: str | None = Field(default=None, max_length=32, pattern=NO_CONTROL)
    DiaChiChuHoSo: Text = None  # not in the national list; read when a partner sends it
    TrichYeuHoSo: Text = None
    NgayNopHoSo: Happened = None
    NgayTiepNhan: Happened = None
    NgayHenTra: Timestamp = None
    TrangThaiHoSo: Annotated[Status, BeforeValidator(_integer)]
    NgayTra: Happened = None
    HinhThuc: Annotated[int | None, BeforeValidator(_optional_integer), Field(ge=0, le=99)] = None
    NgayKetThucXuLy: Happened = None
    NgayTuChoi: Happened = None
    DonViXuLy: Text = None
    NoiNopHoSo: Text = None
    HoSoCoThanhPhanSoHoa: Flag = None
    TaiKhoanDuocXacThucVoiVNeID: Flag = None
    DuocThanhToanTrucTuyen: Annotated[Literal[0, 1, 2] | None, BeforeValidator(_optional_integer)] = None
    TaiLieuNop: list[Document] = Field(default_factory=list, max_length=500)
    DanhSachLePhi: list[Fee] = Field(default_factory=list, max_length=100)
    DanhSachHoSoBoSung: list[Supplement] = Field(default_factory=list, max_length=100)
    DanhSachGiayToKetQua: list[ResultPaper] = Field(default_factory=list, max_length=100)

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
    """One progress step (CapNhatTienDoHoSoMC)."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    MaHoSo: str = Field(min_length=1, max_length=64, pattern=NO_CONTROL)
    NguoiXuLy: Text = None
    ChucDanh: Text = None
    ThoiDiemXuLy: Annotated[datetime, BeforeValidator(parse_past_timestamp)]
    PhongBanXuLy: Text = None
    NoiDungXuLy: Text = None
    TrangThai: Annotated[Status, BeforeValidator(_integer)]
    NgayBatDau: Happened = None
    NgayKetThucTheoQuyDinh: Timestamp = None


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


def read_records(
    data: Sequence[Any], model: type[R], *, unique: bool = True, latest: datetime | None = None
) -> ReadBatch[R]:
    """Validate each record on its own; with ``unique``, a MaHoSo seen earlier in the batch is
    rejected; with ``latest``, so is an instant of something done later than it."""
    batch: ReadBatch[R] = ReadBatch()
    first_index: dict[str, int] = {}
    context = {"latest": latest}
    validate: Callable[[Any], R] = lambda raw: model.model_validate(raw, context=context)  # noqa: E731
    for index, raw in enumerate(data):
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
