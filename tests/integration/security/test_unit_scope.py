"""A unit's principal sees its unit and the units under it, in every service, REST and GraphQL:
single reads, lists, filters, cursors, counts, nested fields, letters and their PDFs, indicators
and rankings. Out of scope is absent (404 / NOT_FOUND / null), writes included. Positive controls
in each: the commune sees its own, the province sees both communes, the whole system sees all."""

from __future__ import annotations

from shared.paging import encode_cursor
from tests.integration.security.conftest import KEY_A, KEY_B, PROVINCE, RECORD_A, RECORD_B, A, B, Province
from tests.support.principals import admin, integration, officer

OFFICER_A, OFFICER_B, PROVINCIAL = officer(A), officer(B), officer(PROVINCE)


async def keys(province: Province, who, **filters) -> list[str]:
    response = await province.get("/dossiers/v1/dossiers", who, **filters)
    assert response.status_code == 200, response.text
    return [d["ma_ho_so"] for d in response.json()["items"]]


async def test_dossiers_of_another_commune_are_absent_in_reads_lists_filters_and_cursors(province: Province):
    assert await keys(province, OFFICER_A) == [KEY_A]
    assert await keys(province, OFFICER_B) == [KEY_B]
    assert sorted(await keys(province, PROVINCIAL)) == sorted([KEY_A, KEY_B])
    assert sorted(await keys(province, admin())) == sorted([KEY_A, KEY_B])

    assert (await province.get(f"/dossiers/v1/dossiers/{KEY_A}", OFFICER_A)).status_code == 200
    absent = await province.get(f"/dossiers/v1/dossiers/{KEY_B}", OFFICER_A)
    assert absent.status_code == 404 and absent.headers["content-type"] == "application/problem+json"
    assert absent.json()["code"] == "not_found"
    assert (await province.get(f"/dossiers/v1/dossiers/{KEY_B}", PROVINCIAL)).status_code == 200

    assert await keys(province, OFFICER_A, unit=B) == []  # a filter outside the scope: nothing
    assert await keys(province, OFFICER_A, unit=PROVINCE) == [KEY_A]  # the province narrowed to the commune
    assert await keys(province, PROVINCIAL, unit=B) == [KEY_B]
    assert await keys(province, OFFICER_A, cursor=encode_cursor("")) == [KEY_A]  # a forged cursor stays inside
    assert await keys(province, OFFICER_B, cursor=encode_cursor(KEY_A[:-1])) == [KEY_B]


async def test_writes_to_another_communes_dossiers_are_404_and_its_records_are_rejected(province: Province):
    moved = await province.call("POST", f"/dossiers/v1/dossiers/{KEY_B}/transitions", OFFICER_A, json={"to": 9})
    assert moved.status_code == 404
    intake = {"agency": B, "ma_tthc": RECORD_A["MaTTHC"], "applicant": {"name": "Lê Văn C"}}
    assert (await province.call("POST", "/dossiers/v1/dossiers", OFFICER_A, json=intake)).status_code == 404

    resent = [{**RECORD_A, "TrangThaiHoSo": 5}, {**RECORD_B, "TrangThaiHoSo": 5}]
    report = await province.push(resent, integration(A))
    assert [r["result"] for r in report["results"]] == ["updated", "rejected"]
    assert report["results"][1]["errors"][0]["field"] == "DonViXuLy"
    progress = {"service": "CapNhatTienDoHoSoMC", "isUpdating": True, "data": []}
    steps = [
        {"MaHoSo": key, "TrangThai": 6, "ThoiDiemXuLy": "20240417090000", "NguoiXuLy": "Cán bộ"}
        for key in (KEY_A, KEY_B)
    ]
    answer = await province.ok("POST", "/dossiers/v1/sync/dvcqg", integration(A), json={**progress, "data": steps})
    assert [r["result"] for r in answer["results"]] == ["updated", "rejected"]
    assert answer["results"][1]["errors"][0]["message"].startswith("unknown dossier")
    assert (await province.get(f"/dossiers/v1/dossiers/{KEY_B}", admin())).json()["status"] == 4  # untouched


async def test_graphql_dossiers_and_nested_reads_keep_to_the_scope(province: Province):
    query = "query($k: String!) { dossier(maHoSo: $k) { maHoSo unit } dossiers { items { maHoSo } } }"
    mine = await province.graphql(query, OFFICER_A, k=KEY_A)
    assert mine["data"]["dossier"] == {"maHoSo": KEY_A, "unit": A}
    assert mine["data"]["dossiers"]["items"] == [{"maHoSo": KEY_A}]
    theirs = await province.graphql(query, OFFICER_A, k=KEY_B)
    assert theirs["data"]["dossier"] is None
    everything = await province.graphql(query, PROVINCIAL, k=KEY_B)
    assert everything["data"]["dossier"]["unit"] == B and len(everything["data"]["dossiers"]["items"]) == 2

    letters = "query($k: String!) { letters(dossier: $k) { id unit pdfPath } }"
    assert (await province.graphql(letters, OFFICER_A, k=KEY_B))["data"]["letters"] == []
    [letter_b] = (await province.graphql(letters, PROVINCIAL, k=KEY_B))["data"]["letters"]
    one = "query($id: ID!) { letter(id: $id) { id } }"
    assert (await province.graphql(one, OFFICER_A, id=letter_b["id"]))["data"]["letter"] is None
    assert (await province.graphql(one, OFFICER_B, id=letter_b["id"]))["data"]["letter"] == {"id": letter_b["id"]}
    approve = "mutation($id: ID!) { issueLetter(id: $id) { id } }"
    refused = await province.graphql(approve, OFFICER_A, id=letter_b["id"])
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_letters_their_pdfs_and_the_print_queue_keep_to_the_scope(province: Province):
    [letter_a] = (await province.get("/notifications/v1/letters", OFFICER_A, dossier=KEY_A)).json()["items"]
    assert (await province.get("/notifications/v1/letters", OFFICER_A, dossier=KEY_B)).json()["items"] == []
    [letter_b] = (await province.get("/notifications/v1/letters", PROVINCIAL, dossier=KEY_B)).json()["items"]
    for path, params in (("", {}), (".pdf", {}), ("/text", {"channel": "sms"})):
        theirs = await province.get(f"/notifications/v1/letters/{letter_b['id']}{path}", OFFICER_A, **params)
        assert theirs.status_code == 404
        mine = await province.get(f"/notifications/v1/letters/{letter_a['id']}{path}", OFFICER_A, **params)
        assert mine.status_code == 200
    pdf = await province.get(f"/notifications/v1/letters/{letter_b['id']}.pdf", PROVINCIAL)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    delivered = await province.call("POST", f"/notifications/v1/letters/{letter_b['id']}:deliver", OFFICER_A)
    assert delivered.status_code == 404

    queue = {
        x["unit"] for x in (await province.get("/notifications/v1/letters/print-queue", OFFICER_A)).json()["items"]
    }
    assert queue == {A}  # the pushed dossiers were handed in person: paper letters
    both = await province.get("/notifications/v1/letters/print-queue", PROVINCIAL)
    assert {x["unit"] for x in both.json()["items"]} == {A, B}
    assert (await province.get("/notifications/v1/letters/print-queue", OFFICER_A, unit=B)).json()["items"] == []
    assert (await province.get(f"/notifications/v1/letter-settings/{B}", OFFICER_A)).status_code == 404
    assert (await province.get(f"/notifications/v1/letter-settings/{A}", OFFICER_A)).status_code == 200
    body = {"dossier": KEY_B, "reason": "Hồ sơ cần thêm thời gian thẩm định."}
    assert (await province.call("POST", "/notifications/v1/letters", OFFICER_A, json=body)).status_code == 404


async def test_recipients_contacts_and_deliveries_keep_to_the_scope(province: Province):
    listed = (await province.get("/notifications/v1/recipients", OFFICER_A)).json()["items"]
    assert [r["unit_code"] for r in listed] == [A]
    provincial = (await province.get("/notifications/v1/recipients", PROVINCIAL)).json()["items"]
    assert sorted(r["unit_code"] for r in provincial) == sorted([PROVINCE, A, B])
    assert (await province.get(f"/notifications/v1/recipients/{B}", OFFICER_A)).status_code == 404

    person = {"name": "Hoàng Văn Nam", "email": "nam@example.vn"}
    assert (
        await province.call("POST", f"/notifications/v1/recipients/{B}/contacts", OFFICER_A, json=person)
    ).status_code == 404
    added = await province.ok("POST", f"/notifications/v1/recipients/{B}/contacts", OFFICER_B, json=person)
    assert (await province.get(f"/notifications/v1/recipients/{B}/contacts", OFFICER_A)).status_code == 404
    assert (await province.get(f"/notifications/v1/recipients/{B}/contacts", PROVINCIAL)).json()["items"][0][
        "id"
    ] == added["id"]
    gone = await province.call("DELETE", f"/notifications/v1/recipients/{B}/contacts/{added['id']}", OFFICER_A)
    assert gone.status_code == 404
    contacts = "query($u: String!) { contacts(unitCode: $u) { id } }"
    assert (await province.graphql(contacts, OFFICER_A, u=B))["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    recipients = "{ recipients { unitCode } }"
    assert (await province.graphql(recipients, OFFICER_A))["data"]["recipients"] == [{"unitCode": A}]


async def test_indicators_scorecards_and_rankings_keep_to_the_scope(province: Province):
    async def received(unit: str, who) -> int:
        body = (await province.get("/scoring/v1/indicators", who, unit=unit, period="2024")).json()
        return next(i["value"] for i in body["items"] if i["code"] == "dossiers.received")

    assert await received(A, OFFICER_A) == 1
    assert await received(PROVINCE, PROVINCIAL) == 2  # both communes counted for the province
    for path in ("/scoring/v1/indicators", "/scoring/v1/scorecard", "/scoring/v1/targets"):
        outside = await province.get(path, OFFICER_A, unit=B, period="2024")
        assert outside.status_code == 404 and outside.json()["code"] == "not_found"
        above = await province.get(path, OFFICER_A, unit=PROVINCE, period="2024")
        assert above.status_code == 404  # the province's figures hold B's
        assert (await province.get(path, OFFICER_A, unit=A, period="2024")).status_code == 200
    series = await province.get(
        "/scoring/v1/indicators/dossiers.received/series", OFFICER_A, unit=B, **{"from": "2024-01", "to": "2024-06"}
    )
    assert series.status_code == 404

    ranking = {"level": "commune", "parent": PROVINCE, "code": "dossiers.received", "period": "2024"}
    assert (await province.get("/scoring/v1/rankings", OFFICER_A, **ranking)).status_code == 404  # parent out of scope
    del ranking["parent"]
    seen = (await province.get("/scoring/v1/rankings", OFFICER_A, **ranking)).json()
    assert seen["count"] == 2 and sorted(i["value"] for i in seen["items"]) == [1, 1]
    assert sorted((i["unit"] or "", i["name"] or "") for i in seen["items"]) == [("", ""), (A, "UBND xã Cẩm Quang")]
    full = (await province.get("/scoring/v1/rankings", PROVINCIAL, **ranking)).json()
    assert sorted(i["unit"] for i in full["items"]) == sorted([A, B])

    query = 'query($u: String!) { indicators(unit: $u, period: "2024") { unit } }'
    assert (await province.graphql(query, OFFICER_A, u=B))["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await province.graphql(query, OFFICER_A, u=A))["data"]["indicators"]["unit"] == A
    rankings = '{ rankings(level: "commune", period: "2024", code: "dossiers.received") { items { unit value } } }'
    items = (await province.graphql(rankings, OFFICER_B))["data"]["rankings"]["items"]
    assert sorted(str(i["unit"]) for i in items) == sorted([B, "None"])


async def test_reference_data_every_unit_shares_is_changed_by_the_whole_system_only(province: Province):
    forbidden = await province.call(
        "PUT", "/dossiers/v1/calendar/days/2024-05-02", PROVINCIAL, json={"working": False, "reason": "Nghỉ bù"}
    )
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"
    unit = await province.call("PUT", f"/plans/v1/units/{A}", PROVINCIAL, json={"name": "X", "level": "commune"})
    assert unit.status_code == 403
    assert (await province.get(f"/plans/v1/units/{B}", OFFICER_A)).status_code == 404
    assert [u["code"] for u in (await province.get("/plans/v1/units", OFFICER_A)).json()["items"]] == [A]
    assert (await province.get(f"/dossiers/v1/calendar/units/{B}/hours", OFFICER_A)).status_code == 404
    assert (await province.get(f"/dossiers/v1/calendar/units/{A}/hours", OFFICER_A)).status_code == 200
