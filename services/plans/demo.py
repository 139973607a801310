"""Demo data of the plans service (``cchc run --demo``): the units behind the seed plans.

Unit codes follow the national electronic-id pattern; apart from ``000.00.12.H42`` (the
commune of the provincial sync example) they are illustrative, not an official list.
"""

from __future__ import annotations

import json
from pathlib import Path

from services.plans import service
from services.plans.schemas import UnitIn
from shared.service import ServiceContext

DEMO_UNITS = Path(__file__).with_name("demo_units.json")


async def load_demo(context: ServiceContext) -> None:
    """Register the demo units (parents first); loading twice changes nothing."""
    async with context.uow() as uow:
        for row in json.loads(DEMO_UNITS.read_text(encoding="utf-8")):
            code = row.pop("code")
            await service.upsert_unit(uow, code, UnitIn.model_validate(row))
        await uow.commit()
