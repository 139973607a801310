"""Migration 0003 carries existing plans over: progress onto occurrences, due dates onto reminders
and nodes, groups onto node groups; and it can be undone."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from services.catalog import definitions
from shared.clock import VN_TZ
from shared.db import Database, UTCDateTime
from shared.migrations import alembic_config, upgrade

MIGRATIONS = Path(definitions(["plans"])[0].migrations)
NOW = datetime(2024, 3, 1, 9, 0, tzinfo=VN_TZ)


def table(name: str, *columns: tuple[str, sa.types.TypeEngine]) -> sa.TableClause:
    return sa.table(name, *(sa.column(c, t) for c, t in columns))


UNITS = table(
    "units",
    ("code", sa.String()),
    ("name", sa.String()),
    ("aliases", sa.JSON()),
    ("level", sa.String()),
    ("version", sa.Integer()),
    ("updated_at", UTCDateTime()),
)
GROUPS = table(
    "unit_groups",
    ("code", sa.String()),
    ("name", sa.String()),
    ("aliases", sa.JSON()),
    ("owner_code", sa.String()),
    ("member_level", sa.String()),
    ("version", sa.Integer()),
    ("updated_at", UTCDateTime()),
)
PLANS = table(
    "plans",
    ("id", sa.Integer()),
    ("issuer_code", sa.String()),
    ("title", sa.String()),
    ("year", sa.Integer()),
    ("status", sa.String()),
    ("progress", sa.Float()),
    ("version", sa.Integer()),
    ("created_at", UTCDateTime()),
    ("updated_at", UTCDateTime()),
)
NODES = table(
    "plan_nodes",
    ("id", sa.Integer()),
    ("plan_id", sa.Integer()),
    ("kind", sa.String()),
    ("title", sa.Text()),
    ("position", sa.Integer()),
    ("schedule", sa.JSON()),
    ("unmatched", sa.JSON()),
    ("weight", sa.Float()),
    ("progress", sa.Float()),
    ("search_text", sa.Text()),
    ("dues", sa.JSON()),
)
OBLIGATIONS = table(
    "obligations",
    ("id", sa.Integer()),
    ("plan_id", sa.Integer()),
    ("node_id", sa.Integer()),
    ("unit_code", sa.String()),
    ("role", sa.String()),
    ("group_code", sa.String()),
    ("status", sa.String()),
    ("percent", sa.Float()),
    ("note", sa.Text()),
    ("evidence", sa.JSON()),
    ("due", sa.Date()),
    ("version", sa.Integer()),
    ("updated_at", UTCDateTime()),
)
OCCURRENCES = table(
    "occurrences",
    ("id", sa.Integer()),
    ("obligation_id", sa.Integer()),
    ("plan_id", sa.Integer()),
    ("unit_code", sa.String()),
    ("due", sa.Date()),
    ("done_on", sa.Date()),
    ("status", sa.String()),
    ("percent", sa.Float()),
    ("note", sa.Text()),
    ("on_time", sa.Boolean()),
)
REMINDERS = table(
    "reminders",
    ("id", sa.Integer()),
    ("occurrence_id", sa.Integer()),
    ("kind", sa.String()),
    ("offset_days", sa.Integer()),
    ("fire_at", UTCDateTime()),
    ("status", sa.String()),
    ("due", sa.Date()),
)
NODE_GROUPS = table("node_groups", ("node_id", sa.Integer()), ("role", sa.String()), ("group_code", sa.String()))


async def test_existing_plans_are_carried_over_and_the_migration_can_be_undone(make_settings):
    url = (await make_settings("plans")).database_url("plans")
    await asyncio.to_thread(upgrade, "plans", MIGRATIONS, url, "0002")
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(
                sa.insert(UNITS),
                [
                    {"code": c, "name": c, "aliases": [], "level": "commune", "version": 1, "updated_at": NOW}
                    for c in ("A", "B")
                ],
            )
            await conn.execute(
                sa.insert(GROUPS),
                [
                    {
                        "code": "G",
                        "name": "Các xã",
                        "aliases": [],
                        "owner_code": None,
                        "member_level": None,
                        "version": 1,
                        "updated_at": NOW,
                    }
                ],
            )
            await conn.execute(
                sa.insert(PLANS),
                [
                    {
                        "id": 1,
                        "issuer_code": "A",
                        "title": "KH",
                        "year": 2024,
                        "status": "published",
                        "progress": 0,
                        "version": 2,
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                ],
            )
            node = {"plan_id": 1, "kind": "task", "unmatched": [], "weight": 1.0, "progress": 0.0, "search_text": ""}
            await conn.execute(
                sa.insert(NODES),
                [
                    {
                        **node,
                        "id": 1,
                        "title": "Báo cáo quý",
                        "position": 1,
                        "schedule": {"kind": "recurring", "raw": "Hàng quý"},
                    },
                    {
                        **node,
                        "id": 2,
                        "title": "Ban hành KH",
                        "position": 2,
                        "schedule": {"kind": "before_date", "due": "2024-01-15", "raw": "x"},
                    },
                    {
                        **node,
                        "id": 3,
                        "title": "Không ai nhận",
                        "position": 3,
                        "schedule": {"kind": "before_date", "due": "2024-05-31", "raw": "y"},
                    },
                ],
            )
            obligation = {"plan_id": 1, "role": "lead", "evidence": [], "version": 2, "updated_at": NOW}
            await conn.execute(
                sa.insert(OBLIGATIONS),
                [
                    {
                        **obligation,
                        "id": 1,
                        "node_id": 1,
                        "unit_code": "A",
                        "group_code": "G",
                        "status": "in_progress",
                        "percent": 25.0,
                        "note": None,
                        "due": date(2024, 12, 31),
                    },
                    {
                        **obligation,
                        "id": 2,
                        "node_id": 2,
                        "unit_code": "B",
                        "group_code": None,
                        "status": "in_progress",
                        "percent": 40.0,
                        "note": "đang làm",
                        "due": date(2024, 1, 15),
                    },
                ],
            )
            await conn.execute(
                sa.insert(OCCURRENCES),
                [
                    {
                        "id": 1,
                        "obligation_id": 1,
                        "plan_id": 1,
                        "unit_code": "A",
                        "due": date(2024, 3, 31),
                        "done_on": date(2024, 4, 2),
                    },
                    {
                        "id": 2,
                        "obligation_id": 1,
                        "plan_id": 1,
                        "unit_code": "A",
                        "due": date(2024, 6, 30),
                        "done_on": None,
                    },
                    {
                        "id": 3,
                        "obligation_id": 2,
                        "plan_id": 1,
                        "unit_code": "B",
                        "due": date(2024, 1, 15),
                        "done_on": None,
                    },
                ],
            )
            await conn.execute(
                sa.insert(REMINDERS),
                [
                    {
                        "id": 1,
                        "occurrence_id": 2,
                        "kind": "overdue",
                        "offset_days": 1,
                        "fire_at": NOW,
                        "status": "pending",
                    }
                ],
            )

        await asyncio.to_thread(upgrade, "plans", MIGRATIONS, url)
        async with db.engine.connect() as conn:
            occurrences = (await conn.execute(sa.select(OCCURRENCES).order_by(OCCURRENCES.c.id))).mappings().all()
            assert [(o["status"], o["percent"], o["note"], o["on_time"]) for o in occurrences] == [
                ("done", 100.0, None, False),  # a done quarter of a recurring duty: done, late
                ("not_started", 0.0, None, None),
                ("in_progress", 40.0, "đang làm", None),  # an obligation's only occurrence takes its progress
            ]
            assert (await conn.execute(sa.select(REMINDERS.c.due))).scalars().all() == [date(2024, 6, 30)]
            dues = dict((await conn.execute(sa.select(NODES.c.id, NODES.c.dues))).all())
            assert dues == {1: ["2024-03-31", "2024-06-30"], 2: ["2024-01-15"], 3: ["2024-05-31"]}
            assert (await conn.execute(sa.select(NODE_GROUPS))).all() == [(1, "lead", "G")]

        await asyncio.to_thread(command.downgrade, alembic_config("plans", MIGRATIONS, url), "0002")
        await asyncio.to_thread(upgrade, "plans", MIGRATIONS, url)  # and back again
    finally:
        await db.dispose()
