"""The letters' rules without a database: regimes by receipt date, the status machine, the new
return date, how dates are written, the short forms and their limits."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from services.notifications.letters.content import build_content, instant_text, place_and_date
from services.notifications.letters.lifecycle import Status, WrongTransition, check_transition
from services.notifications.letters.models import LetterDossier
from services.notifications.letters.policy import UnitPolicy
from services.notifications.letters.regimes import REGIMES_FILE, load_regimes, regime, regime_at
from services.notifications.letters.rendering import SHORT_LIMITS, short_text
from shared.calendar import WorkingCalendar
from shared.clock import VN_TZ


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (vn(2024, 4, 15, 9, 0), "tt01_2018"),
        (vn(2025, 6, 30, 23, 59), "tt01_2018"),
        (vn(2025, 7, 1, 0, 0), "tt03_2025"),
        (vn(2017, 1, 1, 8, 0), "tt01_2018"),  # before any regime: the oldest
    ],
)
def test_the_regime_is_the_one_in_force_on_the_receipt_day_in_vietnam(received, expected):
    assert regime_at(received).code == expected


def test_the_receipt_day_is_counted_in_vietnam_time():
    utc_evening = datetime.fromisoformat("2025-06-30T17:30:00+00:00")  # 1 July 00:30 in Hà Nội
    assert regime_at(utc_evening).code == "tt03_2025"


def test_without_a_receipt_time_the_rule_set_decides():
    assert regime_at(None, "nd61_2018").code == "tt01_2018"
    assert regime_at(None, "nd118_2025").code == "tt03_2025"
    assert regime_at(None, None).code == "tt03_2025"


def test_the_switch_date_is_data_with_its_source(tmp_path):
    data = json.loads(REGIMES_FILE.read_text(encoding="utf-8"))
    data["regimes"][1]["applies_to_received_from"] = "2025-09-15"  # another reading of the law
    path = tmp_path / "regimes.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    regimes = load_regimes(path)
    assert regime_at(vn(2025, 8, 1, 8, 0), regimes=regimes).code == "tt01_2018"
    assert regime_at(vn(2025, 9, 15, 8, 0), regimes=regimes).code == "tt03_2025"
    assert "118/2025" in regime("tt03_2025").source and "TT 01/2018" not in regime("tt03_2025").form


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("draft", Status.issued, ["approved"]),
        ("approved", Status.approved, ["issued"]),
        ("issued", Status.approved, ["delivered", "failed"]),
        ("delivered", Status.failed, []),
    ],
)
def test_wrong_transitions_name_the_allowed_ones(current, target, allowed):
    with pytest.raises(WrongTransition) as refused:
        check_transition(current, target)
    assert refused.value.status == 409 and refused.value.extra["allowed_transitions"] == allowed


def test_the_allowed_path():
    for current, target in [
        ("draft", Status.approved),
        ("approved", Status.issued),
        ("issued", Status.failed),
        ("failed", Status.delivered),
    ]:
        check_transition(current, target)


def test_the_new_return_date_counts_working_days_from_the_missed_due_or_now():
    policy = UnitPolicy(unit_code="U", issuing_body="X", extension_working_days=5, procedure_extensions={"1.001193": 2})
    calendar = WorkingCalendar()
    due = vn(2024, 4, 16, 9, 15)
    # before it is missed: from the due date; 18/04 (Giỗ Tổ) is off
    assert policy.new_due_at("other", due, vn(2024, 4, 15, 9, 15), calendar) == vn(2024, 4, 24, 9, 15)
    assert policy.new_due_at("1.001193", due, vn(2024, 4, 15, 9, 15), calendar) == vn(2024, 4, 19, 9, 15)
    # written after the due date: from now, never a date already past
    assert policy.new_due_at("1.001193", due, vn(2024, 4, 22, 14, 0), calendar) == vn(2024, 4, 24, 14, 0)


def test_dates_are_written_as_nd30_writes_them():
    assert place_and_date("Cẩm Xuyên", vn(2024, 2, 5, 10, 0)) == "Cẩm Xuyên, ngày 05 tháng 02 năm 2024"
    assert place_and_date("Cẩm Xuyên", vn(2024, 11, 15, 10, 0)) == "Cẩm Xuyên, ngày 15 tháng 11 năm 2024"
    assert place_and_date("", vn(2024, 4, 5, 10, 0)) == "Ngày 05 tháng 4 năm 2024"
    assert instant_text(datetime.fromisoformat("2024-04-16T02:15:00+00:00")) == "09 giờ 15 phút, ngày 16/04/2024"


def _content(issuing_body: str = "Ủy ban nhân dân xã Cẩm Quang", reason: str = "Cần xác minh thêm.") -> dict:
    dossier = LetterDossier(
        ma_ho_so="000.00.15.H10-240415-0001",
        unit_code="U",
        procedure_code="1.001193",
        procedure_name="Đăng ký khai sinh",
        channel=2,
        applicant_name="Nguyễn Thị Hồng",
        applicant_address=None,
        applicant_phone="0912345678",
        received_at=vn(2024, 4, 15, 9, 15),
        rule_set="nd61_2018",
    )
    policy = UnitPolicy(unit_code="U", issuing_body=issuing_body)
    return build_content(
        dossier,
        policy,
        missed_due_at=vn(2024, 4, 16, 9, 15),
        new_due_at=vn(2024, 4, 23, 17, 0),
        reason=reason,
        dated=vn(2024, 4, 16, 10, 0),
        number="12/PXL",
    )


def test_the_sms_has_no_diacritics_and_fits_one_message():
    text = short_text(_content(), regime("tt01_2018"), "sms", "12/PXL")
    assert (
        text
        == "Uy ban nhan dan xa Cam Quang xin loi: ho so 000.00.15.H10-240415-0001 chua tra ket qua dung hen. Hen tra lai: 17:00 23/04/2024."
    )
    long = short_text(
        _content("Văn phòng Hội đồng nhân dân và Ủy ban nhân dân huyện Cẩm Xuyên tỉnh Hà Tĩnh " * 3),
        regime("tt03_2025"),
        "sms",
        "12/PXL",
    )
    assert (
        len(long) <= SHORT_LIMITS["sms"]
        and long.isascii()
        and "000.00.15.H10-240415-0001" in long
        and "17:00 23/04/2024" in long
    )


def test_the_zalo_text_keeps_diacritics_and_shortens_the_reason_first_when_too_long():
    text = short_text(_content(reason="Hồ sơ cần xác minh " * 60), regime("tt03_2025"), "zalo", "12/PXL")
    assert len(text) <= SHORT_LIMITS["zalo"]
    assert (
        "Nguyễn Thị Hồng" in text
        and "Đề nghị gia hạn thời gian giải quyết đến: 17:00 23/04/2024" in text
        and "12/PXL" in text
    )
