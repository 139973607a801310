"""Importing plan appendix tables as officers have them (POST /plans/v1/plans:import)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook

from tests.support.memory import resident_memory
from tests.support.plans import (
    SEEDS,
    VAN_QUAN,
    VAN_QUAN_COMMUNES,
    Plans,
    cp1258,
    csv_bytes,
)

HEADER = ["Phần", "STT", "Nhiệm vụ", "Tiến độ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Kết quả/sản phẩm"]
SEED_ISSUERS = {"000.csv": VAN_QUAN, "001.csv": "000.00.10.H42", "002.csv": "000.00.00.H20", "003.csv": "000.00.10.H24"}


def seed_rows(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8", newline="") as table:
        return list(csv.DictReader(table))


def walk(nodes: list[dict]) -> list[dict]:
    return [n for node in nodes for n in (node, *walk(node["children"]))]


@pytest.mark.parametrize("name", sorted(SEED_ISSUERS))
async def test_each_seed_plan_is_read_row_for_row_with_every_schedule_typed_or_flagged(plans: Plans, name: str):
    rows = seed_rows(name)
    report = await plans.import_seed(name, issuer=SEED_ISSUERS[name])

    assert report["rows_read"] == len(rows)
    assert report["tasks_created"] + report["activities_created"] == len(rows)
    assert report["areas_created"] == len({r["Phần"] for r in rows})
    assert sum(report["schedules"].values()) == sum(1 for r in rows if r["Tiến độ"].strip())
    tree = (await plans.http.get(f"/plans/v1/plans/{report['plan_id']}/tree")).json()
    nodes = walk(tree["areas"])
    assert [n["kind"] for n in tree["areas"]] == ["area"] * report["areas_created"]
    assert sorted(n["title"] for n in nodes if n["kind"] in ("task", "activity")) == sorted(r["Nhiệm vụ"] for r in rows)
    raw = [n["schedule_raw"] for n in nodes if n["schedule_raw"]]
    assert sorted(raw) == sorted(r["Tiến độ"] for r in rows if r["Tiến độ"].strip())  # raw text always kept
    assert all(n["schedule"]["kind"] for n in nodes if n["schedule_raw"])


async def test_groups_become_one_obligation_per_member_and_unknown_agencies_are_reported(plans: Plans):
    report = await plans.import_seed("000.csv")

    assert report["units"]["matched"] > 10
    assert "Lãnh đạo UBND huyện" in report["units"]["unmatched"]
    assert report["schedules"] == {"typed": 72, "triggered": 5, "unparsed": 0}
    tree = (await plans.http.get(f"/plans/v1/plans/{report['plan_id']}/tree")).json()
    first = next(
        n for n in walk(tree["areas"]) if n["label"] == "1"
    )  # lead: "Các cơ quan chuyên môn; Các xã, thị trấn"
    communes = [o for o in first["obligations"] if o["group_code"] == f"{VAN_QUAN}.communes"]
    assert sorted(o["unit_code"] for o in communes) == VAN_QUAN_COMMUNES
    assert {o["role"] for o in communes} == {"lead"}
    coordinating = [o["unit_code"] for o in first["obligations"] if o["role"] == "coordinating"]
    assert coordinating == ["000.01.10.H20"]  # "Phòng Nội vụ huyện"
    assert first["obligations"][0]["due"] == "2024-12-31"  # "Trong năm 2024"
    activity = next(n for n in walk(tree["areas"]) if n["label"] == "4.1")
    parent = next(n for n in walk(tree["areas"]) if n["label"] == "4")
    assert activity["kind"] == "activity" and activity["parent_id"] == parent["id"]
    checked = next(n for n in walk(tree["areas"]) if n["label"] == "3")
    assert "Đoàn kiểm tra CCHC của huyện" in checked["unmatched"]


async def test_the_same_file_twice_is_one_plan_and_another_plan_under_a_used_number_is_refused(plans: Plans):
    first = await plans.import_seed("003.csv", number="05/KH-UBND")
    plans_before = (await plans.http.get("/plans/v1/plans")).json()["items"]
    again = await plans.import_seed("003.csv", number="05/KH-UBND")

    assert first["unchanged"] is False and again["unchanged"] is True
    assert again["plan_id"] == first["plan_id"]
    assert first["rows_added"] == first["rows_read"] and (
        again["rows_added"],
        again["rows_changed"],
        again["rows_removed"],
    ) == (0, 0, 0)
    read = {"unchanged", "rows_added", "rows_changed", "rows_removed"}
    assert {k: v for k, v in again.items() if k not in read} == {k: v for k, v in first.items() if k not in read}
    assert (await plans.http.get("/plans/v1/plans")).json()["items"] == plans_before

    other = await plans.import_table(
        (SEEDS / "000.csv").read_bytes(), "000.csv", number="05/KH-UBND", title="Kế hoạch khác"
    )
    assert other.status_code == 409 and other.json()["code"] == "conflict"
    assert len((await plans.http.get("/plans/v1/plans")).json()["items"]) == 1


def semicolons(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[list[str]], *, title: str | None = None) -> bytes:
    book = Workbook()
    if title:
        book.active.append([title])
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_the_same_table_as_utf8_bom_windows_1258_or_xlsx_is_one_plan(plans: Plans):
    """Windows-1258 and XLSX read as the very rows UTF-8 gives: the import knows them as one table."""
    rows = [
        HEADER,
        [
            "I. Thể chế",
            "1",
            "Rà soát văn bản quy phạm pháp luật",
            "Trước 30/06/2024",
            "Phòng Tư pháp",
            "Phòng Nội vụ",
            "Báo cáo",
        ],
        [
            "I. Thể chế",
            "2",
            "Số hóa hồ sơ, kết quả giải quyết TTHC",
            "Quý III/2024",
            "UBND các xã, thị trấn",
            "",
            "Dữ liệu số hóa",
        ],
    ]
    text = "\n".join(",".join(f'"{c}"' for c in row) for row in rows) + "\n"
    first = await plans.import_table(text.encode("utf-8"), "phu-luc.csv")
    assert first.status_code == 200 and first.json()["unchanged"] is False, first.text

    for data, name in (
        (text.encode("utf-8-sig"), "phu-luc.csv"),
        (cp1258(text), "phu-luc.csv"),
        (semicolons(rows), "phu-luc.csv"),
        (xlsx_bytes(rows, title="PHỤ LỤC"), "phu-luc.xlsx"),
    ):
        again = await plans.import_table(data, name)
        assert again.status_code == 200, again.text
        assert again.json() == {**first.json(), "unchanged": True, "rows_added": 0}, name
    assert [p["id"] for p in (await plans.http.get("/plans/v1/plans")).json()["items"]] == [first.json()["plan_id"]]

    other_year = await plans.import_table(
        text.encode("utf-8"), "phu-luc.csv", year=2025
    )  # positive control: another key
    assert other_year.json()["unchanged"] is False and other_year.json()["plan_id"] != first.json()["plan_id"]


async def test_a_revised_table_updates_its_draft_in_place_and_says_what_changed(plans: Plans):
    rows = [
        HEADER,
        ["I. Thể chế", "1", "Rà soát văn bản quy phạm pháp luật", "Trước 30/06/2024", "Phòng Tư pháp", "", "Báo cáo"],
        [
            "I. Thể chế",
            "2",
            "Tuyên truyền cải cách hành chính",
            "Quý II/2024",
            "Phòng Văn hóa và Thông tin",
            "",
            "Tin bài",
        ],
        [
            "I. Thể chế",
            "3",
            "Số hóa hồ sơ, kết quả giải quyết TTHC",
            "Quý III/2024",
            "Phòng Nội vụ",
            "",
            "Dữ liệu số hóa",
        ],
    ]
    first = (await plans.import_table(csv_bytes(rows), title="KH CCHC 2024")).json()
    assert (first["rows_added"], first["rows_changed"], first["rows_removed"]) == (3, 0, 0)

    revised = [
        rows[0],
        [*rows[1][:3], "Trước 31/07/2024", *rows[1][4:]],
        rows[3],
        ["I. Thể chế", "4", "Kiểm tra công tác CCHC", "Quý IV/2024", "UBND các xã, thị trấn", "", "Báo cáo"],
    ]
    answer = await plans.import_table(xlsx_bytes(revised), "phu-luc-sua.xlsx", title="KH CCHC 2024")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["plan_id"] == first["plan_id"] and report["unchanged"] is False
    assert (report["rows_read"], report["rows_added"], report["rows_changed"], report["rows_removed"]) == (3, 1, 1, 1)
    assert report["tasks_created"] == 3 and report["obligations_created"] == 2 + len(VAN_QUAN_COMMUNES)
    assert [p["id"] for p in (await plans.http.get("/plans/v1/plans")).json()["items"]] == [first["plan_id"]]
    tree = (await plans.http.get(f"/plans/v1/plans/{first['plan_id']}/tree")).json()
    tasks = {n["label"]: n for n in walk(tree["areas"]) if n["kind"] == "task"}
    assert sorted(tasks) == ["1", "3", "4"]
    assert tasks["1"]["dues"] == ["2024-07-31"]
    assert sorted(o["unit_code"] for o in tasks["4"]["obligations"]) == VAN_QUAN_COMMUNES
    assert tree["plan"]["source_name"] == "phu-luc-sua.xlsx"

    again = (await plans.import_table(csv_bytes(revised), title="KH CCHC 2024")).json()  # the revision, as CSV
    assert again["unchanged"] is True and again["plan_id"] == first["plan_id"]
    other = (
        await plans.import_table(csv_bytes(rows), title="KH kiểm tra CCHC 2024")
    ).json()  # positive control: another title
    assert other["plan_id"] != first["plan_id"] and other["rows_added"] == 3


async def test_an_xlsx_with_a_title_row_header_variants_objectives_activities_and_budgets(plans: Plans):
    book = Workbook()
    sheet = book.active
    sheet.append(["PHỤ LỤC NHIỆM VỤ CCHC NĂM 2024"])
    sheet.append(
        [
            "TT",
            "Mục tiêu",
            "Nội dung",
            "Hoạt động",
            "Thời gian hoàn thành",
            "Chủ trì",
            "Phối hợp",
            "Sản phẩm",
            "Kinh phí (triệu đồng)",
        ]
    )
    sheet.append(["I. Cải cách thủ tục hành chính"])
    sheet.append(
        [
            "1",
            "100% TTHC công khai",
            "Rà soát TTHC",
            "Rà soát quy trình nội bộ",
            "Quý I/2024",
            "VP HĐND&UBND",
            "Phòng Tư pháp",
            "Báo cáo",
            15,
        ]
    )
    sheet.append(
        ["", "", "", "Đề xuất đơn giản hóa", "Tháng 6/2024", "Văn phòng HĐND và UBND huyện", "", "Phương án", None]
    )
    sheet.append(["2", "", "Số hóa hồ sơ", "", "Định kỳ vào ngày 25 hàng tháng", "UBND cấp xã", "", "Số liệu", "2,5"])
    buffer = io.BytesIO()
    book.save(buffer)

    answer = await plans.import_table(buffer.getvalue(), "phu-luc.xlsx", title="Kế hoạch CCHC 2024")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["rows_read"] == 3
    assert (
        report["areas_created"],
        report["objectives_created"],
        report["tasks_created"],
        report["activities_created"],
    ) == (1, 1, 2, 2)
    assert report["units"]["unmatched"] == []
    tree = (await plans.http.get(f"/plans/v1/plans/{report['plan_id']}/tree")).json()
    assert tree["plan"]["title"] == "Kế hoạch CCHC 2024"
    [area] = tree["areas"]
    assert (area["label"], area["title"]) == ("I", "Cải cách thủ tục hành chính")
    [objective] = area["children"]
    assert objective["kind"] == "objective" and objective["title"] == "100% TTHC công khai"
    review, digitise = objective["children"]
    assert [a["title"] for a in review["children"]] == ["Rà soát quy trình nội bộ", "Đề xuất đơn giản hóa"]
    assert review["children"][0]["budget_amount"] == "15000000.00"
    assert [o["unit_code"] for o in review["children"][1]["obligations"]] == ["000.02.10.H20"]
    assert digitise["schedule"]["kind"] == "recurring"
    monthly = [o for o in digitise["obligations"] if o["unit_code"] == VAN_QUAN_COMMUNES[0]]
    owed = (
        await plans.http.get(
            f"/plans/v1/units/{VAN_QUAN_COMMUNES[0]}/obligations", params={"from": "2024-01-01", "to": "2024-12-31"}
        )
    ).json()
    assert owed["items"] == []  # a draft binds nobody yet
    await plans.http.post(f"/plans/v1/plans/{report['plan_id']}:publish")
    owed = (
        await plans.http.get(
            f"/plans/v1/units/{VAN_QUAN_COMMUNES[0]}/obligations", params={"from": "2024-01-01", "to": "2024-12-31"}
        )
    ).json()
    assert [i["due"] for i in owed["items"] if i["obligation"]["id"] == monthly[0]["id"]] == [
        f"2024-{m:02d}-25" for m in range(1, 13)
    ]


async def test_a_missing_column_is_named_with_the_headers_found_and_nothing_is_imported(plans: Plans):
    table = csv_bytes(
        [["STT", "Nhiệm vụ", "Tiến độ", "Phối hợp"], ["1", "Ban hành kế hoạch", "Trước 15/01/2024", "Phòng Nội vụ"]]
    )
    answer = await plans.import_table(table)

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == "missing_columns"
    assert problem["missing_columns"] == ["lead"]
    assert problem["headers_found"] == ["STT", "Nhiệm vụ", "Tiến độ", "Phối hợp"]
    assert problem["errors"][0]["field"] == "file" and problem["errors"][0]["column"] == "lead"
    assert (await plans.http.get("/plans/v1/plans")).json()["items"] == []


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"\n\n  \n", "empty_file"),
        (",".join(HEADER).encode() + b"\n", "empty_file"),
        (b"STT,Nhi\x81m v\x8d,Ch\x90 tr\x9d\n\x81,\x8d,\x9d\n", "unreadable_encoding"),
    ],
)
async def test_empty_and_unreadable_files_are_refused_with_what_is_wrong(plans: Plans, data: bytes, code: str):
    answer = await plans.import_table(data)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == code
    assert (await plans.http.get("/plans/v1/plans")).json()["items"] == []


async def test_a_table_that_breaks_half_way_leaves_nothing_behind(plans: Plans):
    good = "".join(
        f"I Thể chế,{i},Nhiệm vụ số {i} về cải cách thể chế,Năm 2024,Phòng Tư pháp,,Báo cáo\n" for i in range(1, 2000)
    )
    data = (",".join(HEADER) + "\n" + good).encode() + b"I,9999,Nhi\xff\xfe,x,y,,z\n"
    answer = await plans.import_table(data)

    assert answer.status_code == 422 and answer.json()["code"] == "unreadable_encoding"
    assert (await plans.http.get("/plans/v1/plans")).json()["items"] == []
    assert (await plans.http.get("/plans/v1/tasks", params={"q": "nhiem vu so"})).json()["items"] == []


async def test_an_issuer_that_is_not_registered_is_a_field_error(plans: Plans):
    answer = await plans.import_table((SEEDS / "000.csv").read_bytes(), issuer="UBND huyện Không Có")
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "issuer"


async def test_a_10_mb_table_of_50000_rows_streams_in_bounded_memory(plans: Plans):
    lines = [",".join(HEADER)]
    for i in range(50_000):
        area = f"{'I' * (1 + i // 10_000)} Lĩnh vực {i // 10_000}"
        title = (
            f"Nhiệm vụ {i}: rà soát, đơn giản hóa thủ tục hành chính thuộc lĩnh vực được giao quản lý, báo cáo kết quả"
        )
        lines.append(
            f'{area},{i % 500}.{i % 7},"{title}",Quý {"I" * (1 + i % 3)}/2024,Phòng Tư pháp,"Văn phòng HĐND và UBND huyện",Báo cáo kết quả'
        )
    data = ("\n".join(lines) + "\n").encode()
    data += b" " * max(0, 10 * 1024 * 1024 - len(data))  # trailing blank padding up to 10 MB
    assert len(data) >= 10 * 1024 * 1024

    with resident_memory() as growth:  # tracemalloc would make the import four times slower
        answer = await plans.import_table(data, "big.csv")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["rows_read"] == 50_000
    assert report["tasks_created"] + report["activities_created"] == 50_000
    assert report["obligations_created"] == 100_000
    assert growth.peak < 120 * 1024 * 1024, f"peak growth {growth.peak / 2**20:.0f} MiB"
