"""Events the dossiers service consumes: the handler table."""

from __future__ import annotations

from pydantic import BaseModel

from services.dossiers.late import on_letter_issued
from services.dossiers.models import UnitReplica
from shared.consumer import Subscription
from shared.db import upsert
from shared.events import CloudEvent
from shared.uow import UnitOfWork


class UnitUpsertedIn(BaseModel):
    """What this service reads of ``vn.cchc.unit.upserted.v1``."""

    code: str
    name: str
    aliases: list[str] = []
    level: str
    parent_code: str | None = None
    version: int


async def on_unit_upserted(uow: UnitOfWork, event: CloudEvent) -> None:
    """Keep the units replica (handling units, sub-unit filters); an older version never wins."""
    unit = event.data_as(UnitUpsertedIn)
    table = UnitReplica.__table__
    statement = upsert(uow.session, table).values(**unit.model_dump())
    statement = statement.on_conflict_do_update(
        index_elements=["code"],
        set_={c: statement.excluded[c] for c in ("name", "aliases", "level", "parent_code", "version")},
        where=table.c.version < statement.excluded.version,
    )
    await uow.session.execute(statement)


SUBSCRIPTIONS = [
    Subscription(topic="cchc.plans", handlers={"vn.cchc.unit.upserted.v1": on_unit_upserted}),
    Subscription(topic="cchc.notifications", handlers={"vn.cchc.letter.issued.v1": on_letter_issued}),
]
