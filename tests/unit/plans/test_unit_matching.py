"""Agency names of the seed plans split and matched to the units of one district's registry.

The registry (tests/fixtures/plans/district_units.json) holds the agencies the seed plans name, for
one district (Cẩm Xuyên) and its province, as the plans service scopes a matcher to a plan's issuer.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from services.plans.unit_matching import GroupRef, UnitMatcher, UnitRef

FIXTURES = Path(__file__).parents[2] / "fixtures" / "plans"


def unit(row: dict) -> UnitRef:
    return UnitRef(row["code"], row["name"], tuple(row.get("aliases", ())), row["level"], row.get("parent_code"))


DISTRICT = json.loads((FIXTURES / "district_units.json").read_text(encoding="utf-8"))
UNITS = [unit(row) for row in DISTRICT["units"]]
GROUPS = [GroupRef(g["code"], g["name"], tuple(g["aliases"]), tuple(g["members"])) for g in DISTRICT["groups"]]
MATCHER = UnitMatcher(UNITS, GROUPS)


@pytest.mark.parametrize(
    ("cell", "names"),
    [  # raw cells of the seed plans and how their extraction split them
        ("Các cơ quan chuyên môn các xã, thị trấn", ["Các cơ quan chuyên môn", "Các xã, thị trấn"]),
        (
            ("- Đoàn kiểm tra CCHC của huyện - Kiểm tra kỷ luật, kỷ cưởng - Kiểm tra cải cách TTHC; "
            "Kiểm tra chuẩn tiếp cận pháp luật"),
            ["Đoàn kiểm tra CCHC của huyện", "Kiểm tra kỷ luật, kỷ cưởng", "Kiểm tra cải cách TTHC"]
            + ["Kiểm tra chuẩn tiếp cận pháp luật"],
        ),
        (
            "Phòng Tài chính - Kế hoạch huyện; Ban Tiếp công dân huyện: tham mưu tổ chức đối thoại với người dân.",
            ["Phòng Tài chính - Kế hoạch huyện", "Ban Tiếp công dân huyện"],
        ),
        ("Văn phòng HĐND và UBND huyện, UBND các xã, thị trấn", ["Văn phòng HĐND và UBND huyện", "UBND các xã, thị trấn"]),
        ("Văn phòng HĐND và UBND huyện dõi, hướng dẫn, đôn đốc việc thực hiện", ["Văn phòng HĐND và UBND huyện"]),
        (
            "Các cơ quan chuyên môn, đơn vị SNCL thuộc UBND huyện các xã, thị trấn",
            ["Các cơ quan chuyên môn", "Đơn vị SNCL thuộc UBND huyện", "Các xã, thị trấn"],
        ),
        (
            "Các cơ quan, đơn vị trực thuộc UBND huyện, các xã, thị trấn",
            ["Các cơ quan, đơn vị trực thuộc UBND huyện", "Các xã, thị trấn"],
        ),
        (
            ("- Phòng Nội vụ huyện chủ trì, tham mưu UBND tỉnh tổ chức | "
            "Các cơ quan, đơn vị trực thuộc UBND huyện, các xã, thị trấn"),
            ["Phòng Nội vụ huyện", "Các cơ quan, đơn vị trực thuộc UBND huyện", "Các xã, thị trấn"],
        ),
        ("Phòng Nội vụ huyện hướng dẫn, thẩm định", ["Phòng Nội vụ huyện"]),
        (
            ("- Phòng Tư pháp (đối với nhiệm vụ tự kiểm tra, kiểm tra theo thẩm quyền). "
            "- Các cơ quan, đơn vị (đối với nhiệm vụ rà soát)"),
            ["Phòng Tư pháp", "Các cơ quan, đơn vị"],
        ),
        ("- Các cơ quan; -UBND các xã, thị trấn", ["Các cơ quan", "UBND các xã, thị trấn"]),
        ("Phòng Văn hóa và Thông tin ; Văn phòng UBND tỉnh theo dõi", ["Phòng Văn hóa và Thông tin", "Văn phòng UBND tỉnh"]),
        (
            "Thủ trưởng các cơ quan thuộc UBND huyện, Chủ tịch UBND các xã, thị trấn",
            ["Thủ trưởng các cơ quan thuộc UBND huyện", "Chủ tịch UBND các xã, thị trấn"],
        ),
        ("Ủy ban Mặt trận Tổ quốc và các đoàn thể nhân dân", ["Ủy ban Mặt trận Tổ quốc", "Các đoàn thể nhân dân"]),
        ("Các quan, đơn vị thuộc UBND huyện, UBND các xã, thị trấn", ["Các quan, đơn vị thuộc UBND huyện", "UBND các xã, thị trấn"]),
        ("Trung tâm Văn hóa, Thể thao và Truyền thông", ["Trung tâm Văn hóa, Thể thao và Truyền thông"]),
        ("Các cơ quan chủ trì CCHC của huyện", ["Các cơ quan chủ trì CCHC của huyện"]),
        ("- Phòng Tài chính - Kế hoạch\n- Phòng Kinh tế - Hạ tầng", ["Phòng Tài chính - Kế hoạch", "Phòng Kinh tế - Hạ tầng"]),
        ("Phòng Nội vụ + Công an huyện", ["Phòng Nội vụ", "Công an huyện"]),
        ("UBND các xã Cẩm Quang, Cẩm Thành, Cẩm Mỹ", ["Xã Cẩm Quang", "Xã Cẩm Thành", "Xã Cẩm Mỹ"]),
        ("", []),
    ],
)  # fmt: skip
def test_split_like_the_extraction(cell: str, names: list[str]):
    assert UnitMatcher.split(cell) == names


def test_the_seed_csv_cells_split_into_their_semicolon_separated_names():
    """The seed CSVs joined the extracted names with "; ": splitting gives them back."""
    cells = 0
    for path in sorted(FIXTURES.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                for cell in (row["Cơ quan chủ trì"], row["Cơ quan phối hợp"]):
                    expected = [n[:1].upper() + n[1:] for n in cell.split("; ") if n]
                    if "(" in cell or "UBND các xã Cẩm" in cell:
                        continue  # notes in brackets are dropped; named communes are expanded
                    assert UnitMatcher.split(cell) == expected, cell
                    cells += 1
    assert cells > 250


# Seed names no registry can resolve: vague ("liên quan"), people or roles, ad hoc teams, outsiders,
# categories the district registry does not define as a group, and "Phòng Tài chính" style truncations.
UNMATCHED = {
    "Chủ tịch UBND cấp xã",
    "Các cơ quan Trung ương đóng trên địa bàn huyện",
    "Các cơ quan chủ trì CCHC của huyện",
    "Các cơ quan chủ trì các lĩnh vực CCHC huyện",
    "Các cơ quan liên quan",
    "Các cơ quan liên quan khác",
    "Các cơ quan đơn vị liên quan",
    "Các cơ quan, đơn vị SNCL trực thuộc UBND huyện",
    "Các cơ quan, đơn vị liên quan",
    "Các cơ quan, đơn vị áp dụng",
    "Các cơ quan, đơn vị, địa phương",
    "Các cơ quan, đơn vị, địa phương có liên quan",
    "Các phòng, ngành cấp huyện",
    "Các trường",
    "Các đơn vị",
    "Các đơn vị chủ trì CCHC của huyện",
    "Các đơn vị liên quan",
    "Các đơn vị sự nghiệp",
    "Các đơn vị được kiểm tra",
    "Cơ quan, đơn vị liên quan",
    "Cơ quan, đơn vị, địa phương",
    "HĐTĐ CCHC huyện",
    "Kiểm tra chuẩn tiếp cận pháp luật",
    "Kiểm tra cải cách TTHC",
    "Kiểm tra kỷ luật, kỷ cưởng",
    "Lãnh đạo UBND huyện",
    "Thành viên Đoàn kiểm tra kỷ luật, kỷ cương hành chính huyện",
    "Thủ trưởng các ban, ngành cấp huyện",
    "Thủ trưởng các đơn vị sự nghiệp",
    "Thủ trưởng đơn vị sự nghiệp",
    "Trưởng các phòng chuyên môn và tương đương",
    "Tổ chức đào tạo, chứng nhận hệ thống",
    "Đoàn Kiểm tra",
    "Đoàn kiểm tra CCHC của huyện",
    "Đơn vị tư vấn",
}


def seed_names() -> Counter[str]:
    names: Counter[str] = Counter()
    for path in sorted(FIXTURES.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                names.update(MATCHER.split(row["Cơ quan chủ trì"]) + MATCHER.split(row["Cơ quan phối hợp"]))
    return names


def test_most_seed_names_match_and_the_rest_is_listed():
    names = seed_names()
    unmatched = {name for name in names if MATCHER.match_name(name) is None}
    assert unmatched == UNMATCHED
    matched_mentions = sum(count for name, count in names.items() if name not in unmatched)
    assert matched_mentions / names.total() > 0.85


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("Phòng Nội vụ", "unit:000.01.10.H42"),
        ("Phòng Nội vụ huyện", "unit:000.01.10.H42"),
        ("phòng nội vụ  HUYỆN", "unit:000.01.10.H42"),
        ("UBND huyện", "unit:000.00.10.H42"),
        ("UBND tỉnh", "unit:000.00.00.H42"),
        ("UBND xã Cẩm Quang", "unit:000.00.12.H42"),
        ("Ủy ban nhân dân xã Cẩm Quang", "unit:000.00.12.H42"),
        ("Xã Cẩm Mỹ", "unit:000.00.14.H42"),
        ("Sở Khoa học và Công nghệ tỉnh Hà Tĩnh", "unit:000.03.00.H42"),
        ("Sở Khoa học & Công nghệ", "unit:000.03.00.H42"),
        ("Văn phòng HĐND&UBND", "unit:000.02.10.H42"),
        ("VP HĐND và UBND huyện", "unit:000.02.10.H42"),
        ("Văn phòng HĐND-UBND huyện", "unit:000.02.10.H42"),
        ("Văn phòng UBND huyện", "unit:000.02.10.H42"),
        ("Văn phòng UBND tỉnh", "unit:000.02.00.H42"),
        ("P. Tư pháp", "unit:000.03.10.H42"),
        ("Phòng TC-KH", "unit:000.04.10.H42"),
        ("Phòng VH&TT", "unit:000.05.10.H42"),
        ("Phòng VH TT", "unit:000.05.10.H42"),
        ("Phòng Văn hóa Thông tin", "unit:000.05.10.H42"),
        ("Phòng Kinh tế & Hạ tầng", "unit:000.06.10.H42"),
        ("Phòng GD&ĐT", "unit:000.07.10.H42"),
        ("TT HCC huyện", "unit:000.08.10.H42"),
        ("Trung tâm Văn hóa, Thể thao và Truyền thông", "unit:000.09.10.H42"),  # registered with its place
        ("CA huyện", "unit:000.10.10.H42"),
        ("Ủy ban MTTQ huyện", "unit:000.12.10.H42"),
        ("Ủy ban Mặt trận Tổ quốc", "unit:000.12.10.H42"),
        ("Ủy ban nhân dân các xã, thị trấn", "group:CX.COMMUNES"),
        ("Các xã, thị trấn", "group:CX.COMMUNES"),
        ("UBND cấp xã", "group:CX.COMMUNES"),
        ("Các cơ quan chuyên môn", "group:CX.SPECIALISED"),
        ("Các phòng ban ngành thuộc UBND huyện", "group:CX.SPECIALISED"),
        ("Các cơ quan, đơn vị trực thuộc UBND huyện", "group:CX.BODIES"),
        ("Đơn vị SNCL thuộc UBND huyện", "group:CX.PUBLIC_SERVICE"),
        # fuzzy: a typo and the southern "chánh"
        ("Phòng Tư phápp", "unit:000.03.10.H42"),
        ("Trung tâm Hành chánh công huyện", "unit:000.08.10.H42"),
    ],
)
def test_name_variants(name: str, target: str):
    assert MATCHER.match_name(name) == target


@pytest.mark.parametrize(
    "name",
    ["Phòng Tài chính", "Phòng Y tế", "Phòng Tư pháp huyện Văn Quan", "Sở Tài chính - Kế hoạch", "UBND", "", "-"],
)
def test_no_guess(name: str):
    assert MATCHER.match_name(name) is None


def test_the_fuzzy_threshold_separates_every_pair_of_registered_units():
    """No registered unit's name or alias fuzzily matches another unit (e.g. Nội vụ vs Tư pháp)."""
    for ref in UNITS:
        for name in (ref.name, *ref.aliases):
            assert MATCHER.match_name(name) in (f"unit:{ref.code}", None), name
    assert MATCHER.match_name("Phòng Nội vụ") != MATCHER.match_name("Phòng Tư pháp")
    assert UnitMatcher([UnitRef("TP", "Phòng Tư pháp")]).match_name("Phòng Nội vụ") is None
    assert UnitMatcher([UnitRef("NV", "Phòng Nội vụ")]).match_name("Phòng Nội vụ huyện X") is None


def test_a_name_shared_by_two_units_matches_neither():
    matcher = UnitMatcher(
        [
            UnitRef("A", "Phòng Nội vụ huyện A", ("Phòng Nội vụ",)),
            UnitRef("B", "Phòng Nội vụ huyện B", ("Phòng Nội vụ",)),
        ]
    )
    assert matcher.match_name("Phòng Nội vụ") is None
    assert matcher.match_name("Phòng Nội vụ huyện B") == "unit:B"


def test_match_a_cell_into_units_groups_and_unmatched_names():
    result = MATCHER.match(
        "Phòng Nội vụ huyện; Văn phòng HĐND & UBND, UBND các xã, thị trấn; Phòng Nội vụ; Đơn vị tư vấn"
    )
    assert result.units == ["000.01.10.H42", "000.02.10.H42"]
    assert result.groups == ["CX.COMMUNES"]
    assert result.unmatched == ["Đơn vị tư vấn"]
    assert MATCHER.match("UBND các xã Cẩm Quang, Cẩm Thành, Cẩm Mỹ").units == [
        "000.00.12.H42",
        "000.00.13.H42",
        "000.00.14.H42",
    ]
