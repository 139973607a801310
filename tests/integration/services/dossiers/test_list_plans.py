"""The dossier list reads a page through the index meant for its filter (PostgreSQL), so a later
change cannot fall back to reading the table.

120,000 dossiers over a province and its 29 communes (and 30 other units), spread over a year,
are loaded by SQL and analysed; each list request goes through the real route, and the statement
it ran is explained (``EXPLAIN ANALYZE``) with its parameters: no sequential scan of ``dossiers``,
the intended index in the plan, and at most a few thousand index entries read for a page of 50
(the table is 40 times larger), on the first page and on a deep one.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.integration.services.dossiers.conftest import Dossiers
from tests.support.explain import assert_reads_through, explain, statements_run

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("backend", ["postgres"], indirect=True)]
PROVINCE = "000.00.10.H42"
COMMUNES = [f"000.00.{i:02d}.H42" for i in range(11, 40)]
OTHERS = [f"000.01.{i:02d}.H42" for i in range(10, 40)]
UNITS = [PROVINCE, *COMMUNES, *OTHERS]

FILL = """
INSERT INTO dossiers (ma_ho_so, origin, agency, unit_code, ma_tthc, procedure_name, channel, status,
    received_at, due_at, original_due_at, rule_set, timeliness, apology_due_at, supplement_count,
    documents, fees, supplements, result_papers, extra, status_history, pauses, due_history,
    state_at, state_rank, content_hash, version, created_at, updated_at)
SELECT u.code || '-' || to_char(day, 'YYMMDD') || '-' || lpad(seq::text, 4, '0'), 'sync', u.code, u.code,
    '1.00' || ((extract(doy FROM day)::int + seq) % 40), 'Thủ tục', 1 + (seq % 3),
    CASE WHEN seq = 5 THEN 4 WHEN seq = 1 AND extract(doy FROM day)::int % 7 = 0 THEN 5 ELSE 10 END,
    day + interval '8 hours', day + interval '10 days', day + interval '10 days', 'nd61_2018',
    CASE WHEN seq = 5 THEN 'open_overdue' ELSE 'on_time' END,
    CASE WHEN seq IN (4, 5) THEN day + interval '9 days' END, 0,
    '[]', '[]', '[]', '[]', '{}', '[]', '[]', '[]', day, 2, '', 1, now(), now()
FROM unnest(CAST(:units AS text[])) AS u(code),
     generate_series(timestamptz '2024-01-01 00:00+07', timestamptz '2024-12-31 00:00+07', interval '1 day') AS day,
     generate_series(1, 5) AS seq
"""


@pytest.fixture
async def loaded(dossiers: Dossiers) -> Dossiers:
    await dossiers.register_unit(PROVINCE, "Tỉnh", level="province")
    for code in COMMUNES:
        await dossiers.register_unit(code, f"Xã {code}", parent=PROVINCE)
    async with dossiers.runtime["dossiers"].db.engine.begin() as connection:
        await connection.execute(text(FILL), {"units": UNITS})
        await connection.execute(text("ANALYZE dossiers"))
    return dossiers


CASES = {
    "unit with its communes": ({"unit": PROVINCE}, "ix_dossiers_unit_code"),
    "one commune": ({"unit": COMMUNES[3]}, "ix_dossiers_unit_code"),
    "a rare status": ({"status": 5}, "ix_dossiers_status"),
    # per (unit, status) pair, merged: not every dossier of the units checked for its status
    "unit with its communes, one status": ({"unit": PROVINCE, "status": 4}, "ix_dossiers_unit_code_status"),
    "one commune, two statuses": ({"unit": COMMUNES[3], "status": "4,5"}, "ix_dossiers_unit_code_status"),
    "one commune, one status": ({"unit": COMMUNES[3], "status": 4}, "ix_dossiers_unit_code_status"),
    "timeliness": ({"timeliness": "open_overdue"}, "ix_dossiers_timeliness"),
    "procedure": ({"procedure": "1.0017"}, "ix_dossiers_ma_tthc"),
    "received in a week": (
        {"received_from": "2024-06-03T00:00:00+07:00", "received_to": "2024-06-10T00:00:00+07:00"},
        "ix_dossiers_received_at",
    ),
    "due in a week": (
        {"due_from": "2024-06-03T00:00:00+07:00", "due_to": "2024-06-10T00:00:00+07:00"},
        "ix_dossiers_due_at",
    ),
    "channel": ({"channel": 3}, "pk_dossiers"),  # a third of the dossiers: the key walked, the channel checked
    "apology due on a day": ({"apology_due": "2024-06-12"}, "ix_dossiers_apology_due_at"),
    "apology due by a day": ({"apology_due_before": "2024-09-30"}, "ix_dossiers_apology_due_at"),
}
# pages in of the deep page when a case has fewer than 1,050 matches: 120 dossiers owe their apology
# that day; a commune has 366 in status 4 and 52 in status 5
DEEP = {"apology due on a day": 1, "one commune, two statuses": 7, "one commune, one status": 6}


async def test_each_filter_reads_its_page_through_its_index(loaded: Dossiers):
    db = loaded.runtime["dossiers"].db
    for case, (params, index) in CASES.items():  # one load for all: it takes most of the time
        with statements_run(db, "dossiers") as statements:
            first = await loaded.client.get("/dossiers/v1/dossiers", params=params)
            assert first.status_code == 200 and len(first.json()["items"]) == 50, (case, first.text)
            deep = {**params, "cursor": first.json()["next_cursor"]}
            for _ in range(DEEP.get(case, 20) - 1):  # a page twenty pages in
                deep["cursor"] = (await loaded.client.get("/dossiers/v1/dossiers", params=deep)).json()["next_cursor"]
                assert deep["cursor"] is not None, case  # (else the next request would read the first page again)
            page = await loaded.client.get("/dossiers/v1/dossiers", params=deep)
        assert len(page.json()["items"]) == 50, case
        assert page.json()["items"][0]["ma_ho_so"] > first.json()["items"][-1]["ma_ho_so"], case
        for statement in (statements[0], statements[-1]):
            assert_reads_through(await explain(db, statement), index, {"dossiers"}, 5_000, case)
