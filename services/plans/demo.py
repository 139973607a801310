"""Demo data of the plans service (``cchc run --demo``): units, unit groups, and the four seed plans.

Unit codes follow the national electronic-id pattern; apart from ``000.00.12.H42`` (the
commune of the provincial sync example) they are illustrative, not an official list.

The seed plans (``seeds/*.csv``, the appendix tables of four real 2024 plans) are replayed in the
current year of the service clock, so that their reminders happen live: every "2024" of a table
(and every "2023", the year such a plan is prepared in) moves by the years since 2024, and so do
the demo units' validity dates (the districts, abolished on 1 July 2025, live on in the demo
until as long after the plans' year). They are imported and published as an office would, as if
at the start of the year: reminders that would have gone out before the demo started are marked
skipped, so a demo starts without a burst of ``task.overdue``; what is past due shows in the
overdue queries. Loading twice changes nothing (the imports are recognised).
"""

from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from services.plans import importing, planning, reminders, service
from services.plans.schemas import PlanImportIn, PlanStatus, UnitGroupIn, UnitIn
from shared.clock import VN_TZ
from shared.service import ServiceContext

HERE = Path(__file__).parent
DEMO_UNITS = HERE / "demo_units.json"
DEMO_GROUPS = HERE / "demo_groups.json"
SEED_PLANS = HERE / "seeds" / "plans.json"
SEED_YEAR = 2024


def redated(text: str, shift: int) -> str:
    """The seed text moved by ``shift`` years: the plans' year and the year before it."""
    years = f"(?<!\\d)({SEED_YEAR - 1}|{SEED_YEAR})(?!\\d)"
    return re.sub(years, lambda m: str(int(m.group()) + shift), text) if shift else text


def _moved(day: str | None, shift: int) -> date | None:
    if day is None:
        return None
    moved = date.fromisoformat(day)
    try:
        return moved.replace(year=moved.year + shift)
    except ValueError:  # 29 February
        return moved.replace(year=moved.year + shift, day=28)


async def load_demo(context: ServiceContext) -> None:
    """Register the demo units (parents first) and groups, then import and publish the seed plans."""
    now = context.clock.now()
    shift = now.astimezone(VN_TZ).year - SEED_YEAR
    async with context.uow() as uow:
        for row in json.loads(DEMO_UNITS.read_text(encoding="utf-8")):
            code = row.pop("code")
            row.update({k: _moved(row.get(k), shift) for k in ("valid_from", "valid_to")})
            await service.upsert_unit(uow, code, UnitIn.model_validate(row))
        for row in json.loads(DEMO_GROUPS.read_text(encoding="utf-8")):
            code = row.pop("code")
            await service.upsert_group(uow, code, UnitGroupIn.model_validate(row))
        await uow.commit()
    policy = reminders.ReminderPolicy.of(context.settings)
    for seed in json.loads(SEED_PLANS.read_text(encoding="utf-8")):
        async with context.uow() as uow:
            table = redated((SEED_PLANS.parent / seed["file"]).read_text(encoding="utf-8"), shift)
            report = await importing.import_plan(uow, io.BytesIO(table.encode()), seed["file"], _form(seed, shift))
            plan = await planning.get_plan(uow.session, report.plan_id)
            if plan.status == PlanStatus.draft:
                await planning.publish_plan(uow, plan.id, policy=policy)
                await reminders.skip_past_reminders(uow, plan.id, now)
            await uow.commit()


def _form(seed: dict[str, Any], shift: int) -> PlanImportIn:
    return PlanImportIn(
        issuer=seed["issuer"],
        year=seed["year"] + shift,
        number=seed["number"],
        title=redated(seed["title"], shift),
        issued_on=_moved(seed.get("issued_on"), shift),
    )
