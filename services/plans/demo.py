"""Demo data of the plans service (``cchc run --demo``): units, unit groups, and the four seed plans.

Unit codes follow the national electronic-id pattern; apart from ``000.00.12.H42`` (the
commune of the provincial sync example) they are illustrative, not an official list. The seed
plans (``seeds/*.csv``, the appendix tables of four real 2024 plans) are imported and published
as an office would; loading twice changes nothing (the imports are recognised).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from services.plans import importing, planning, reminders, service
from services.plans.schemas import PlanImportIn, PlanStatus, UnitGroupIn, UnitIn
from shared.service import ServiceContext

HERE = Path(__file__).parent
DEMO_UNITS = HERE / "demo_units.json"
DEMO_GROUPS = HERE / "demo_groups.json"
SEED_PLANS = HERE / "seeds" / "plans.json"


async def load_demo(context: ServiceContext) -> None:
    """Register the demo units (parents first) and groups, then import and publish the seed plans."""
    async with context.uow() as uow:
        for row in json.loads(DEMO_UNITS.read_text(encoding="utf-8")):
            code = row.pop("code")
            await service.upsert_unit(uow, code, UnitIn.model_validate(row))
        for row in json.loads(DEMO_GROUPS.read_text(encoding="utf-8")):
            code = row.pop("code")
            await service.upsert_group(uow, code, UnitGroupIn.model_validate(row))
        await uow.commit()
    settings = context.settings
    for seed in json.loads(SEED_PLANS.read_text(encoding="utf-8")):
        async with context.uow() as uow:
            with (SEED_PLANS.parent / seed["file"]).open("rb") as table:
                form = PlanImportIn(
                    issuer=seed["issuer"],
                    year=seed["year"],
                    number=seed["number"],
                    title=seed["title"],
                    issued_on=date.fromisoformat(seed["issued_on"]) if seed.get("issued_on") else None,
                )
                report = await importing.import_plan(uow, table, seed["file"], form)
            plan = await planning.get_plan(uow.session, report.plan_id)
            if plan.status == PlanStatus.draft:
                await planning.publish_plan(uow, plan.id, policy=reminders.ReminderPolicy.of(settings))
            await uow.commit()
    reminders.poke(context)
