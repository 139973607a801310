"""Masks of citizens' personal data, and the personal fields of events."""

from __future__ import annotations

from services.catalog import definitions
from shared.events import registry
from shared.personal import mask_contact, mask_email, mask_name, mask_number, masked, masked_paths
from tests.support.notifications import lateness


def test_each_kind_of_personal_data_has_its_mask():
    assert mask_name("Lê Thị Thu Hà") == "L*** T*** T*** H***"
    assert mask_number("0912345678") == "0912***678" and mask_number("12345") == "***"
    assert mask_number("001088012345") == "0010***345"
    assert mask_email("thuha@example.vn") == "t***@example.vn" and mask_email("not-an-address") == "***"
    assert mask_contact("+84912345678") == "+849***678" and mask_contact("a@b.vn") == "a***@b.vn"
    assert mask_name(None) is None and mask_name("   ") == "***"


def test_a_record_keeps_its_shape_with_its_personal_fields_masked():
    record = {"name": "Nguyễn Văn A", "address": "Thôn 3", "phone": None, "type": 1, "email": 42}
    assert masked(record) == {"name": "N*** V*** A***", "address": "***", "phone": None, "type": 1, "email": None}
    assert masked(record, ["address"])["name"] == "Nguyễn Văn A"


def test_an_events_declared_personal_fields_are_masked_and_its_units_read():
    definitions()  # every service's events in the registry

    spec = registry.get("vn.cchc.dossier.overdue.v1")
    assert spec is not None and spec.personal == ("applicant",)
    data = lateness("K", "000.00.12.H42", "2025-03-04T08:00:00+07:00")
    out = masked_paths(data, spec.personal)
    assert out["applicant"] == {"name": "N*** V*** A***", "address": None, "phone": "0900***000", "email": None}
    assert out["ma_ho_so"] == "K" and data["applicant"]["name"] == "Nguyễn Văn A"  # a copy
    assert spec.units_of(data) == {"000.00.12.H42"}
    rescheduled = registry.get("vn.cchc.task.rescheduled.v1")
    assert rescheduled is not None and rescheduled.units_of({"unit_codes": ["A", "B"]}) == {"A", "B"}
