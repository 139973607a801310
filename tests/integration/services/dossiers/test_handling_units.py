"""The handling unit of a synced dossier: DonViXuLy matched tolerantly against the units replica."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from services.dossiers.sync.ingest import ingest_dossiers
from tests.integration.services.dossiers.conftest import Dossiers, example

TEMPLATE = example("dongbohosomc.json")["data"][0]
AGENCY = "000.00.12.H42"  # the agency prefixing the MaHoSo of TEMPLATE: UBND xã Cẩm Quang


def record(number: int, handling_unit: str) -> dict[str, Any]:
    return {**copy.deepcopy(TEMPLATE), "MaHoSo": f"{AGENCY}-240415-{number:04d}", "DonViXuLy": handling_unit}


async def district(d: Dossiers) -> None:
    await d.register_unit("000.00.10.H42", "UBND huyện Cẩm Xuyên", level="district")
    await d.register_unit("000.03.10.H42", "Phòng Tư pháp huyện Cẩm Xuyên", parent="000.00.10.H42", level="department")
    await d.register_unit(AGENCY, "UBND xã Cẩm Quang", parent="000.00.10.H42")
    await d.register_unit("000.00.31.H42", "UBND xã Cẩm Thịnh", parent="000.00.10.H42")
    await d.register_unit("000.00.52.H42", "UBND xã Cẩm Thịnh", parent="000.00.50.H42")  # same name, another district


async def units_of(d: Dossiers, records: list[dict[str, Any]]) -> list[str]:
    return [(await d.get(r["MaHoSo"]))["unit"] for r in records]


async def test_donvixuly_is_matched_whatever_its_spelling_and_an_ambiguous_name_is_not_guessed(dossiers: Dossiers):
    await district(dossiers)
    records = [
        record(11, "P. Tư pháp huyện Cẩm Xuyên"),  # abbreviation
        record(12, "ỦY BAN NHÂN DÂN HUYỆN CẨM XUYÊN"),  # spelled out, upper case
        record(13, "phong tu phap huyen cam xuyen"),  # no diacritics
        record(14, "UBND xã Cẩm Thịnh"),  # two communes bear the name: the agency prefix decides
        record(15, "Phòng Kinh tế huyện"),  # unknown: the agency prefix
    ]
    report = await dossiers.push(records)
    assert report["created"] == 5
    assert await units_of(dossiers, records) == ["000.03.10.H42", "000.00.10.H42", "000.03.10.H42", AGENCY, AGENCY]
    district_page = (await dossiers.client.get("/dossiers/v1/dossiers", params={"unit": "000.00.10.H42"})).json()
    assert len(district_page["items"]) == 5  # the district and every unit below it
    [received] = await dossiers.events("dossier.received", records[0]["MaHoSo"])
    assert received["data"]["unit"] == "000.03.10.H42"


async def test_a_unit_added_or_renamed_is_matched_by_its_new_name_at_once(dossiers: Dossiers):
    await district(dossiers)
    await dossiers.push([record(21, "Phòng Y tế huyện")])
    await dossiers.register_unit(
        "000.11.10.H42", "Phòng Y tế huyện Cẩm Xuyên", parent="000.00.10.H42", level="department"
    )
    await dossiers.push([record(22, "Phòng Y tế huyện")])
    # Renamed (a new version): the number of units is the same, the registry is still read again.
    await dossiers.register_unit(
        "000.11.10.H42", "Phòng Y tế và Dân số huyện Cẩm Xuyên", parent="000.00.10.H42", version=2
    )
    await dossiers.push([record(23, "Phòng Y tế và Dân số")])
    assert await units_of(dossiers, [record(n, "") for n in (21, 22, 23)]) == [AGENCY, "000.11.10.H42", "000.11.10.H42"]


async def test_a_deleted_unit_is_no_longer_matched_and_a_unit_registered_after_it_is(dossiers: Dossiers):
    # The unit leaves the replica; another is registered with the same version a minute later:
    # as many units and the same sum of versions as before, and still the tree is read again.
    await district(dossiers)
    old = ("000.12.10.H42", "Phòng Kinh tế huyện Cẩm Xuyên")
    await dossiers.register_unit(*old, parent="000.00.10.H42", level="department")
    await dossiers.push([record(41, "Phòng Kinh tế huyện")])
    await dossiers.remove_unit(old[0], version=2)
    dossiers.clock.advance(timedelta(minutes=1))
    await dossiers.register_unit("000.13.10.H42", "Phòng Y tế huyện Cẩm Xuyên", parent="000.00.10.H42")
    await dossiers.push([record(42, "Phòng Kinh tế huyện"), record(43, "Phòng Y tế huyện")])
    assert await units_of(dossiers, [record(n, "") for n in (41, 42, 43)]) == [old[0], AGENCY, "000.13.10.H42"]


async def statements_of(d: Dossiers, records: list[dict[str, Any]]) -> list[str]:
    """The SQL statements one push of ``records`` runs, end to end in its unit of work."""
    seen: list[str] = []
    async with d.runtime["dossiers"].uow() as uow:
        connection = await uow.session.connection()
        event.listen(connection.sync_connection, "before_cursor_execute", lambda *args: seen.append(args[2]))
        await ingest_dossiers(uow, records)
        await uow.commit()
    return seen


async def test_a_batch_costs_the_same_statements_whatever_its_size(dossiers: Dossiers):
    await district(dossiers)
    names = ["P. Tư pháp huyện Cẩm Xuyên", "UBND xã Cẩm Thịnh", "Phòng Kinh tế huyện", "UBND huyện Cẩm Xuyên"]
    first = await statements_of(dossiers, [record(30, names[0])])
    one = await statements_of(dossiers, [record(31, names[0])])
    many = await statements_of(dossiers, [record(40 + n, names[n % len(names)]) for n in range(40)])
    assert len(many) == len(one)
    assert sum("units.name" in statement for statement in first) == 1  # units registered since the last read
    assert not any("units.name" in statement for statement in one + many)  # unchanged since: the cached registry
