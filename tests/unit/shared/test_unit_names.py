"""The tolerant name matcher both plans (table cells) and dossiers (DonViXuLy) use."""

from __future__ import annotations

import pytest

from shared.unit_names import NameMatcher, normalise

MATCHER = NameMatcher(
    [
        ("H42", ["UBND tỉnh Hà Tĩnh"]),
        ("H42.CX", ["UBND huyện Cẩm Xuyên"]),
        ("H42.CX.CQ", ["UBND xã Cẩm Quang"]),
        ("H42.CX.TP", ["Phòng Tư pháp huyện Cẩm Xuyên"]),
        ("H42.CX.TCKH", ["Phòng Tài chính - Kế hoạch huyện Cẩm Xuyên"]),
        ("H42.HT.TP", ["Phường Trần Phú"]),
        ("H42.HCC", ["Trung tâm Phục vụ hành chính công tỉnh Hà Tĩnh"]),
        # Two communes of the same name in two districts: their bare name designates neither.
        ("H42.CX.CT", ["UBND xã Cẩm Thịnh", "Xã Cẩm Thịnh (Cẩm Xuyên)"]),
        ("H42.CL.CT", ["UBND xã Cẩm Thịnh"]),
    ]
)


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("UBND xã Cẩm Quang", "H42.CX.CQ"),
        ("ubnd xa cam quang", "H42.CX.CQ"),  # no diacritics, lower case
        ("Ủy ban nhân dân xã Cẩm Quang", "H42.CX.CQ"),
        ("UỶ BAN NHÂN DÂN XÃ CẨM QUANG", "H42.CX.CQ"),  # the other placement of the tone mark, upper case
        ("Xã Cẩm Quang", "H42.CX.CQ"),
        ("Cẩm Quang", "H42.CX.CQ"),  # the place name alone, as long as one unit bears it
        ("Phòng Tư pháp huyện Cẩm Xuyên", "H42.CX.TP"),
        ("P. Tư pháp", "H42.CX.TP"),
        ("Phòng TC-KH", "H42.CX.TCKH"),
        ("Phòng Tài chính Kế hoạch huyện", "H42.CX.TCKH"),
        ("UBND phường Trần Phú", "H42.HT.TP"),
        ("TT Phục vụ HCC tỉnh", "H42.HCC"),
        ("Ủy ban nhân dân huyện Cẩm Xuyên", "H42.CX"),
        ("Phòng Tư phápp huyện Cẩm Xuyên", "H42.CX.TP"),  # a typo, fuzzily
        ("UBND xã Cẩm Thịnh", None),  # two communes: never guessed
        ("Xã Cẩm Thịnh (Cẩm Xuyên)", "H42.CX.CT"),  # an alias of one of them is exact
        ("Phòng Nội vụ", None),
        ("", None),
    ],
)
def test_names_as_people_write_them(name: str, target: str | None):
    assert MATCHER.match(name) == target
    assert MATCHER.match(name) == target  # remembered, same answer


def test_the_memo_stays_bounded(monkeypatch):
    monkeypatch.setattr("shared.unit_names.MEMO_SIZE", 3)
    matcher = NameMatcher([("A", ["Phòng Nội vụ"])])
    for name in ("Phòng Nội vụ", "x", "y", "z", "phòng nội vụ"):
        matcher.match(name)
    assert len(matcher._memo) <= 3
    assert matcher.match("PHÒNG NỘI VỤ") == "A"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Văn phòng HĐND&UBND huyện", "van phong hdnd ubnd"),
        ("UBND xã Cẩm Quang", "cam quang"),
        ("UBND huyện", "ubnd huyen"),
        ("Các cơ quan chuyên môn thuộc UBND huyện", "co quan chuyen mon"),
        ("Các phòng, ban, ngành cấp huyện", "phong ban nganh"),
        ("Ủy ban MTTQ huyện", "mttq"),
    ],
)
def test_normalised_keys(name: str, key: str):
    assert normalise(name) == key
