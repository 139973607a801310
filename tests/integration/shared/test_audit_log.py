"""The kernel's audit log: one row per audited change, committed or rolled back with it, never
changed or deleted (the database refuses), read by admins only through ``GET /<service>/v1/audit``."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from services.catalog import SERVICE_NAMES, definitions
from shared.audit import SYSTEM
from shared.auth import principal_var
from shared.clock import VN_TZ, ManualClock
from shared.logs import event_id_var
from shared.migrations import alembic_config
from shared.runtime import Runtime
from tests.support import probe
from tests.support.audit import AUDITOR, OFFICER, READER, audit_rows, client_as

START = datetime(2026, 3, 2, 9, 0, tzinfo=VN_TZ)


async def effects(context) -> int:
    async with context.db.session() as session:
        return await session.scalar(select(func.count()).select_from(probe.effects)) or 0


async def test_an_audited_change_and_its_row_commit_or_roll_back_together(probe_runtime):
    runtime = await probe_runtime(clock=ManualClock(START))
    context = runtime["probe"]
    async with context.uow(OFFICER) as uow:
        await uow.session.execute(insert(probe.effects).values(event_id="e1", note="kept"))
        uow.audit("note.taken", "note", 1, {"text": [None, "kept"], "at": START})
        await uow.commit()
    async with context.uow(OFFICER) as uow:  # left without committing: the change and its row go
        await uow.session.execute(insert(probe.effects).values(event_id="e2", note="lost"))
        uow.audit("note.taken", "note", 2)
    async with context.uow(OFFICER) as uow:  # rolled back, then another change committed
        uow.audit("note.taken", "note", 3)
        await uow.rollback()
        uow.audit("note.dropped", "note", 4)
        await uow.commit()

    rows = await audit_rows(context)
    assert await effects(context) == 1
    assert [(r["action"], r["object_id"]) for r in rows] == [("note.taken", "1"), ("note.dropped", "4")]
    first = rows[0]
    assert (first["actor"], first["actor_roles"], first["actor_unit"], first["key_id"]) == (
        "officer-an",
        ["unit_officer"],
        "000.00.12.H42",
        "key_an",
    )
    assert first["at"] == START and first["object_type"] == "note"
    assert first["changes"] == {"text": [None, "kept"], "at": "2026-03-02T09:00:00+07:00"}


async def test_without_a_principal_the_actor_is_the_system_with_the_event_it_handled(probe_runtime):
    context = (await probe_runtime(clock=ManualClock(START)))["probe"]
    token = event_id_var.set("0b9a6c1e-4f43-4c1a-9d6b-7d3e2f1a0c55")
    try:
        async with context.uow() as uow:
            uow.audit("note.expired", "note", 7)
            await uow.commit()
    finally:
        event_id_var.reset(token)
    [row] = await audit_rows(context)
    assert (row["actor"], row["actor_roles"], row["event_id"]) == (SYSTEM, [], "0b9a6c1e-4f43-4c1a-9d6b-7d3e2f1a0c55")
    assert row["client_address"] is None and row["request_id"] is None


async def test_a_unit_of_work_opened_in_a_request_without_a_principal_takes_the_requests(probe_runtime):
    """``principal_var`` (set for the request being served) is the actor when the unit of work was
    opened without one; an explicit principal wins."""
    context = (await probe_runtime(clock=ManualClock(START)))["probe"]
    token = principal_var.set(READER)
    try:
        for principal in (None, OFFICER):
            async with context.uow(principal) as uow:
                uow.audit("thing.set", "thing", "T1")
                await uow.commit()
    finally:
        principal_var.reset(token)
    assert [r["actor"] for r in await audit_rows(context)] == ["viewer-chi", "officer-an"]


@pytest.mark.parametrize("service", ["scoring", "notifications"])
async def test_the_migrated_table_refuses_updates_and_deletes(make_settings, backend, service):
    """The triggers come with the service's migration (both backends): rows can be added, never
    changed or removed; downgrading drops the table and its triggers, upgrading brings them back."""
    runtime = Runtime(definitions([service]), await make_settings(service))
    context = runtime[service]
    table = context.definition.tables.audit_log
    try:
        await context.migrate()
        async with context.uow(OFFICER) as uow:
            uow.audit("thing.set", "thing", "T1", {"value": [1, 2]})
            await uow.commit()
        refused = [
            update(table).values(actor="someone-else"),
            table.delete(),
            *([text("TRUNCATE audit_log")] if backend == "postgres" else []),
        ]
        for statement in refused:
            with pytest.raises(DBAPIError, match="append-only"):
                async with context.db.engine.begin() as connection:
                    await connection.execute(statement)
        async with context.uow() as uow:  # a positive control: adding is allowed
            uow.audit("thing.set", "thing", "T2")
            await uow.commit()
        assert [(r["object_id"], r["actor"]) for r in await audit_rows(context)] == [
            ("T1", "officer-an"),
            ("T2", SYSTEM),
        ]

        config = alembic_config(service, context.definition.migrations, context.db.url)
        head = (await asyncio.to_thread(_heads, config))[0]
        [revision] = (context.definition.migrations / "versions").glob("*_audit_log.py")
        before_audit_log = f"{int(revision.name[:4]) - 1:04d}"  # later revisions go down with it
        await asyncio.to_thread(command.downgrade, config, before_audit_log)
        await context.db.engine.dispose()
        await asyncio.to_thread(command.upgrade, config, head)
        await context.db.engine.dispose()
        assert await audit_rows(context) == []
        with pytest.raises(DBAPIError, match="append-only"):
            async with context.uow() as uow:
                uow.audit("thing.set", "thing", "T3")
                await uow.commit()
                await uow.session.execute(table.delete())
    finally:
        await runtime.stop()


def _heads(config) -> list[str]:
    return list(ScriptDirectory.from_config(config).get_heads())


async def _log_some(context, clock: ManualClock) -> None:
    """Five entries an hour apart from START: officer, system, admin..."""
    entries = [
        (OFFICER, "dossier.intake", "dossier", "D1"),
        (None, "dossier.due_changed", "dossier", "D1"),
        (OFFICER, "dossier.transition", "dossier", "D1"),
        (AUDITOR, "calendar.day_set", "calendar_day", "2026-03-03"),
        (OFFICER, "dossier.transition", "dossier", "D2"),
    ]
    for principal, action, object_type, object_id in entries:
        async with context.uow(principal) as uow:
            uow.audit(action, object_type, object_id)
            await uow.commit()
        clock.advance(timedelta(hours=1))


async def test_admins_read_the_log_newest_first_by_actor_object_action_and_time(probe_runtime):
    clock = ManualClock(START)
    runtime = await probe_runtime(clock=clock)
    await _log_some(runtime["probe"], clock)

    async def ids(**query: str) -> list[str]:
        found, cursor = [], None
        while True:
            params = {**query, "limit": "2", **({"cursor": cursor} if cursor else {})}
            answer = await http.get("/probe/v1/audit", params=params)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            found += [f"{e['action']}@{e['object_id']}" for e in page["items"]]
            if not (cursor := page["next_cursor"]):
                return found

    async with client_as(runtime, AUDITOR) as http:
        assert await ids() == [
            "dossier.transition@D2",
            "calendar.day_set@2026-03-03",
            "dossier.transition@D1",
            "dossier.due_changed@D1",
            "dossier.intake@D1",
        ]
        assert await ids(actor="system") == ["dossier.due_changed@D1"]
        assert await ids(actor="officer-an", object="dossier:D1") == ["dossier.transition@D1", "dossier.intake@D1"]
        assert await ids(object="calendar_day") == ["calendar.day_set@2026-03-03"]
        assert await ids(action="dossier.transition") == ["dossier.transition@D2", "dossier.transition@D1"]
        assert await ids(action="dossier.*", actor="officer-an") == [
            "dossier.transition@D2",
            "dossier.transition@D1",
            "dossier.intake@D1",
        ]
        # an instant: from is inclusive, to exclusive; a day: the whole day in Vietnam time
        assert await ids(**{"from": (START + timedelta(hours=1)).isoformat(), "to": "2026-03-02T12:00:00+07:00"}) == [
            "dossier.transition@D1",
            "dossier.due_changed@D1",
        ]
        assert len(await ids(**{"from": "2026-03-02", "to": "2026-03-02"})) == 5
        assert await ids(**{"from": "2026-03-03"}) == []

        entry = (await http.get("/probe/v1/audit", params={"limit": "1"})).json()["items"][0]
        assert entry["actor"] == "officer-an" and entry["actor_roles"] == ["unit_officer"]
        assert entry["actor_unit"] == "000.00.12.H42" and entry["key_id"] == "key_an"
        assert entry["at"] == "2026-03-02T13:00:00+07:00"


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"from": "yesterday"}, 422, "query.from"),
        ({"to": "2026-02-30"}, 422, "query.to"),
        ({"from": "2026-03-02T10:00:00"}, 422, "query.from"),  # an instant needs its offset
        ({"from": "2026-03-05", "to": "2026-03-02"}, 400, "to"),
        ({"object": ":D1"}, 400, "object"),
        ({"cursor": "not-a-cursor"}, 400, "cursor"),
        ({"limit": "0"}, 422, "query.limit"),
        ({"actor": "a\u202eb"}, 422, "query.actor"),
    ],
)
async def test_a_bad_filter_is_a_problem_naming_it(probe_runtime, query, status, field):
    runtime = await probe_runtime(clock=ManualClock(START))
    async with client_as(runtime, AUDITOR) as http:
        answer = await http.get("/probe/v1/audit", params=query)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in answer.json()["errors"]]


async def test_only_admins_read_the_log_and_nobody_edits_it(probe_runtime):
    clock = ManualClock(START)
    runtime = await probe_runtime(clock=clock)
    await _log_some(runtime["probe"], clock)
    for principal in (OFFICER, READER):
        async with client_as(runtime, principal) as http:
            answer = await http.get("/probe/v1/audit")
            assert answer.status_code == 403 and answer.json()["code"] == "forbidden"
    async with client_as(runtime, AUDITOR) as http:
        assert len((await http.get("/probe/v1/audit")).json()["items"]) == 5
        for method in ("PUT", "PATCH", "DELETE", "POST"):
            assert (await http.request(method, "/probe/v1/audit")).status_code == 405
    assert len(await audit_rows(runtime["probe"])) == 5


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_every_service_serves_the_log_read_only_and_marked_admin_only(make_settings, service):
    runtime = Runtime(definitions([service]), await make_settings(service))
    await runtime.start(migrate=True)
    try:
        async with client_as(runtime, AUDITOR) as http:
            document = (await http.get(f"/{service}/openapi.json")).json()
            assert (await http.get(f"/{service}/v1/audit")).json() == {"items": [], "next_cursor": None}
    finally:
        await runtime.stop()
    operations = document["paths"]["/v1/audit"]
    assert list(operations) == ["get"]
    assert operations["get"]["x-cchc-roles"] == ["admin"]
    assert {p["name"] for p in operations["get"]["parameters"]} >= {"actor", "object", "action", "from", "to"}
