"""Reading appendix tables: the seed CSVs, legacy encodings, header variants, XLSX, errors, size."""

from __future__ import annotations

import csv
import io
import tracemalloc
import unicodedata
from pathlib import Path

import pytest
from openpyxl import Workbook

from services.plans.table_reader import (
    EmptyFile,
    MissingColumns,
    TableError,
    UnreadableEncoding,
    UnsupportedFormat,
    iter_rows,
    open_table,
    parse_budget,
    read_table,
)
from tests.support.plans import cp1258

FIXTURES = Path(__file__).parents[2] / "fixtures" / "plans"
SEEDS = sorted(FIXTURES.glob("*.csv"))
SEED_HEADER = ["Phần", "STT", "Nhiệm vụ", "Tiến độ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Kết quả/sản phẩm"]


def seed_dicts(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_seed_tables_read_row_for_row(path: Path):
    expected = seed_dicts(path)
    result = read_table(path.read_bytes(), path.name)
    assert result.columns == {
        "section": "Phần",
        "label": "STT",
        "title": "Nhiệm vụ",
        "schedule": "Tiến độ",
        "lead": "Cơ quan chủ trì",
        "coordinating": "Cơ quan phối hợp",
        "product": "Kết quả/sản phẩm",
    }
    assert len(result.rows) == len(expected)
    for row, want in zip(result.rows, expected, strict=True):
        assert (row.section, row.label, row.title, row.schedule) == (
            want["Phần"],
            want["STT"],
            want["Nhiệm vụ"],
            want["Tiến độ"],
        )
        assert (row.lead, row.coordinating, row.product) == (
            want["Cơ quan chủ trì"],
            want["Cơ quan phối hợp"],
            want["Kết quả/sản phẩm"],
        )
    assert result.sections == list(dict.fromkeys(w["Phần"] for w in expected))


def test_line_numbers_count_the_lines_of_multi_line_cells():
    rows = read_table((FIXTURES / "000.csv").read_bytes(), "000.csv").rows
    assert [r.line for r in rows[:4]] == [2, 3, 4, 6]  # the third task's result spans two lines
    assert "\n" in rows[2].product


def test_windows_1258_with_semicolons_reads_like_the_utf8_original():
    original = (FIXTURES / "001.csv").read_text(encoding="utf-8")
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(csv.reader(io.StringIO(original)))
    legacy = cp1258(buffer.getvalue())
    with pytest.raises(UnicodeDecodeError):
        legacy.decode("utf-8")
    assert read_table(legacy, "001.csv") == read_table(original.encode("utf-8"), "001.csv")
    assert unicodedata.is_normalized("NFC", read_table(legacy, "001.csv").rows[0].title)


OFFICER_ROWS = [
    ["PHỤ LỤC KẾ HOẠCH CẢI CÁCH HÀNH CHÍNH NĂM 2024"] + [""] * 7,
    ["(Kèm theo Kế hoạch số 12/KH-UBND)"] + [""] * 7,
    [" SỐ  TT ", "MỤC TIÊU", "Nội dung công việc", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian hoàn thành"]
    + ["Kinh phí (triệu đồng)", "Ghi chú", "Kết quả"],
    ["I. CẢI CÁCH THỂ CHẾ"] + [""] * 8,
    [
        "1",
        "Văn bản đúng quy định",
        "Rà soát văn bản QPPL",
        "Phòng Tư pháp",
        "Các cơ quan",
        "Quý IV/2024",
        "50",
        "",
        "Báo cáo",
    ],
    ["II", "", "Cải cách TTHC"] + [""] * 6,
    ["1", "", "Số hóa hồ sơ", "Văn phòng HĐND và UBND", "", "Thường xuyên", "Ngân sách huyện", "ưu tiên", ""],
    [""] * 9,
    ["2", "", "Mua máy quét", "Văn phòng HĐND và UBND", "", "Quý I", "1,5 tỷ đồng", "", ""],
]
OFFICER_TABLE = "\ufeff" + "\n".join("\t".join(row) for row in OFFICER_ROWS)


def test_officer_table_with_title_lines_tabs_bom_header_variants_and_headings():
    result = read_table(OFFICER_TABLE.encode("utf-8"), "phu-luc.csv")
    assert result.columns == {
        "label": "SỐ  TT",
        "objective": "MỤC TIÊU",
        "title": "Nội dung công việc",
        "lead": "Đơn vị chủ trì",
        "coordinating": "Đơn vị phối hợp",
        "schedule": "Thời gian hoàn thành",
        "budget": "Kinh phí (triệu đồng)",
        "note": "Ghi chú",
        "product": "Kết quả",
    }
    assert result.sections == ["I. CẢI CÁCH THỂ CHẾ", "II Cải cách TTHC"]
    first, second, third = result.rows
    assert (first.line, first.section, first.title, first.objective) == (
        5,
        "I. CẢI CÁCH THỂ CHẾ",
        "Rà soát văn bản QPPL",
        "Văn bản đúng quy định",
    )
    assert (first.budget, first.budget_amount) == ("50", 50_000_000)  # the header says millions
    assert (second.section, second.budget, second.budget_amount, second.note) == (
        "II Cải cách TTHC",
        "Ngân sách huyện",
        None,
        "ưu tiên",
    )
    assert (third.line, third.budget_amount) == (9, 1_500_000_000)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("50 triệu đồng", 50_000_000),
        ("1,5 tỷ", 1_500_000_000),
        ("200.000.000đ", 200_000_000),
        ("200.000.000 VNĐ", 200_000_000),
        ("Kinh phí năm 2024: 30 triệu", 30_000_000),
        ("500 nghìn đồng", 500_000),
        ("Ngân sách huyện", None),
        ("Theo dự toán được cấp", None),
        ("", None),
    ],
)
def test_budget_amounts(text: str, amount: int | None):
    assert parse_budget(text) == amount


def test_bare_budget_numbers_take_the_scale_of_the_column():
    assert parse_budget("12,5", 10**6) == 12_500_000
    assert parse_budget("200.000.000đ", 10**6) == 200_000_000  # an explicit currency wins


def test_missing_required_column_names_it_and_lists_the_headers_found():
    data = "STT,Nội dung,Tiến độ,Phối hợp\n1,Việc,Quý I,Phòng Nội vụ\n".encode()
    with pytest.raises(MissingColumns) as caught:
        read_table(data, "plan.csv")
    error = caught.value
    assert (error.missing, error.column) == (["lead"], "lead")
    assert error.found == ["STT", "Nội dung", "Tiến độ", "Phối hợp"]
    assert "lead" in str(error) and "«Phối hợp»" in str(error)
    assert isinstance(error, TableError) and isinstance(error, ValueError)


def test_a_table_without_any_known_header_reports_its_first_row():
    with pytest.raises(MissingColumns) as caught:
        read_table(b"a,b\n1,2\n", "plan.csv")
    assert caught.value.missing == ["title", "lead"] and caught.value.found == ["a", "b"]


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\n", ",".join(SEED_HEADER).encode() + b"\n,,,\n"])
def test_empty_files_and_header_only_files(data: bytes):
    with pytest.raises(EmptyFile):
        read_table(data, "plan.csv")


def test_bytes_that_are_neither_utf8_nor_windows_1258():
    with pytest.raises(UnreadableEncoding):
        read_table(",".join(SEED_HEADER).encode() + b"\n\x81\x8d\x8e,x\n", "plan.csv")


@pytest.mark.parametrize(("data", "name"), [(b"%PDF-1.4", "plan.pdf"), (b"not a zip", "plan.xlsx")])
def test_unsupported_formats(data: bytes, name: str):
    with pytest.raises(UnsupportedFormat):
        read_table(data, name)


def test_xlsx_reads_like_the_csv_with_a_title_row_numbers_and_empty_cells():
    with (FIXTURES / "003.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["KẾ HOẠCH CCHC HUYỆN LỤC NGẠN NĂM 2024"])
    for row in rows:
        sheet.append([cell or None for cell in row])
    sheet.append([None, 7.0, "Tổng kết", "Năm 2024", "Phòng Nội vụ"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    from_xlsx = read_table(buffer.getvalue(), "Phu luc.XLSX")
    from_csv = read_table((FIXTURES / "003.csv").read_bytes(), "003.csv")
    assert from_xlsx.columns == from_csv.columns
    assert [r.title for r in from_xlsx.rows[:-1]] == [r.title for r in from_csv.rows]
    assert [r.lead for r in from_xlsx.rows[:-1]] == [r.lead for r in from_csv.rows]
    last = from_xlsx.rows[-1]
    assert (last.label, last.section, last.line) == ("7", from_csv.rows[-1].section, len(rows) + 2)


def test_a_big_csv_streams_in_little_memory_and_leaves_the_file_open():
    line = "Phần I,{n},Nhiệm vụ số {n} về cải cách thủ tục hành chính và số hóa hồ sơ,Quý IV/2024,"
    line += '"Văn phòng HĐND và UBND huyện; UBND các xã, thị trấn",Phòng Nội vụ,' + "Báo cáo kết quả " * 6 + "\n"
    data = (",".join(SEED_HEADER) + "\n" + "".join(line.format(n=n) for n in range(50_000))).encode()
    assert len(data) > 10_000_000
    source = io.BytesIO(data)
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_rows(source, "big.csv"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 50_000
    assert peak < 2_000_000, f"peak {peak} bytes"
    assert not source.closed


def test_open_table_checks_the_header_before_any_row_is_read():
    columns, rows = open_table(io.BytesIO((FIXTURES / "002.csv").read_bytes()), "002.csv")
    assert columns["title"] == "Nhiệm vụ"
    assert next(rows).label == "II.1.a.1"
