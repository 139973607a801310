"""Property-based: the id, instant, date, number and text parsers of every API either give a value
inside the bounds or refuse it with a validation error, never another exception (which would be
a 500, or a batch sunk by one record)."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from services.dossiers.dvcqg import HoSo, TienDo, parse_timestamp, read_records
from services.dossiers.sync.records import dossier_of
from shared.bounds import (
    EARLIEST,
    EARLIEST_DAY,
    LATEST,
    LATEST_DAY,
    MAX_ID,
    MAX_MAGNITUDE,
    AgencyId,
    Amount,
    Day,
    Id,
    Instant,
    Measure,
    Text,
)
from shared.calendar import WorkingCalendar
from shared.clock import VN_TZ

EXAMPLE = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "dvcqg" / "dongbohosomc.json").read_text(encoding="utf-8")
)
CALENDAR = WorkingCalendar()
NOW = datetime(2024, 4, 15, 8, tzinfo=VN_TZ)
PROPERTIES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# What a JSON body or a query string can carry, with the extremes a prober tries.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**63 - 1, 2**63, 2**64]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e33, -1e40, 1e308]),
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "0001-01-01",
            "9999-12-31",
            "9999-12-31T23:59:59-10:00",
            "0001-01-01T00:00:00+14:00",
            "1e33",
            "NaN",
            "\x00",
            "\u202e",
        ]
    ),
)
timestamps = st.one_of(
    st.from_regex(r"\A\d{14}\Z"),
    st.sampled_from(
        ["00010101000000", "99991231235959", "19991231235959", "20000101000000", "20991231235959", "21000101000000"]
    ),
    st.builds(
        lambda d: d.strftime("%Y%m%d%H%M%S"),
        st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    ),
    scalars,
)


def refused_or_within(adapter: TypeAdapter[Any], value: Any, inside: Any) -> None:
    try:
        parsed = adapter.validate_python(value)
    except ValidationError:
        return
    assert inside(parsed), (value, parsed)


@PROPERTIES
@given(scalars)
def test_ids_are_64_bit_keys_or_refused(value: Any):
    refused_or_within(TypeAdapter(Id), value, lambda v: 1 <= v <= MAX_ID)


@PROPERTIES
@given(st.one_of(scalars, st.dates().map(date.isoformat)))
def test_days_lie_in_the_supported_years_or_are_refused(value: Any):
    refused_or_within(TypeAdapter(Day), value, lambda v: EARLIEST_DAY <= v <= LATEST_DAY)


@PROPERTIES
@given(st.one_of(scalars, st.datetimes(timezones=st.timezones()).map(datetime.isoformat)))
def test_instants_lie_in_the_supported_years_or_are_refused(value: Any):
    refused_or_within(TypeAdapter(Instant), value, lambda v: EARLIEST <= v < LATEST and v.tzinfo is not None)


@PROPERTIES
@given(st.one_of(scalars, st.decimals(allow_nan=True, allow_infinity=True)))
def test_numbers_are_finite_and_bounded_or_refused(value: Any):
    refused_or_within(TypeAdapter(Amount), value, lambda v: abs(v) <= MAX_MAGNITUDE and v.is_finite())
    refused_or_within(TypeAdapter(Measure), value, lambda v: abs(v) <= MAX_MAGNITUDE)


@PROPERTIES
@given(st.one_of(scalars, st.text()))
def test_text_and_agency_ids_carry_no_control_characters(value: Any):
    refused_or_within(
        TypeAdapter(Text), value, lambda v: not any(c < " " and c not in "\t\n\r" for c in v) and "\u202e" not in v
    )
    refused_or_within(TypeAdapter(AgencyId), value, lambda v: len(v) == 13 and v[:3].isdigit())


@PROPERTIES
@given(timestamps)
def test_a_partner_timestamp_is_an_instant_of_2000_to_2099_or_a_value_error(value: Any):
    try:
        instant = parse_timestamp(value)
    except ValueError:
        return
    assert instant is None or EARLIEST <= instant < LATEST


FIELDS = ["NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayTuChoi"]


@PROPERTIES
@given(
    st.fixed_dictionaries({name: timestamps for name in FIELDS}),
    st.sampled_from([*range(1, 11), "4", 4.0, True]),
    st.one_of(scalars, st.floats()),
    st.lists(
        st.fixed_dictionaries(
            {"NgayBoSung": timestamps, "NgayTiepNhanBoSung": timestamps, "NgayHenTraMoi": timestamps}
        ),
        max_size=2,
    ),
)
def test_a_record_is_rejected_with_its_fields_or_becomes_a_row_and_events(
    dates: dict, status: Any, fee: Any, supplements: list
):
    raw = {**copy.deepcopy(EXAMPLE["data"][1]), **dates, "TrangThaiHoSo": status, "DanhSachHoSoBoSung": supplements}
    raw["DanhSachLePhi"] = [{"TenPhiLePhi": "Lệ phí", "Gia": fee}]
    batch = asyncio.run(read_records([raw], HoSo, latest=NOW + timedelta(days=1)))
    for rejected in batch.rejected:
        assert rejected.errors and all(isinstance(e["field"], str) and e["message"] for e in rejected.errors)
    for _, record in batch.accepted:
        dossier = dossier_of(record, raw, unit_code=record.agency, calendar=CALENDAR)
        dossier.open(NOW, CALENDAR)
        assert dossier.collect_events()[0].ma_ho_so == record.MaHoSo  # dossier.received, first


@PROPERTIES
@given(timestamps, st.sampled_from([*range(1, 11), 0, 11, "5", 5.0, False]))
def test_a_progress_step_is_rejected_or_read(at: Any, status: Any):
    step = {"MaHoSo": "000.00.12.H42-240415-0008", "ThoiDiemXuLy": at, "TrangThai": status}
    batch = asyncio.run(read_records([step], TienDo, unique=False, latest=NOW + timedelta(days=1)))
    assert len(batch.accepted) + len(batch.rejected) == 1
    for _, accepted in batch.accepted:
        assert EARLIEST <= accepted.ThoiDiemXuLy <= NOW + timedelta(days=1) and type(accepted.TrangThai) is not bool


@pytest.mark.parametrize("value", [Decimal("1e33"), "1e33", 1e33])
def test_a_huge_target_value_is_refused_before_it_is_rounded(value: Any):
    from services.plans.schemas import TargetIn

    with pytest.raises(ValidationError) as refused:
        TargetIn.model_validate({"metric_code": "x", "operator": ">=", "value": value, "period": "2024"})
    assert [e["loc"] for e in refused.value.errors()] == [("value",)]
