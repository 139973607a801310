"""Demo data: the procedure catalogue of the simulated province (``cchc run --demo``)."""

from __future__ import annotations

import json
from importlib.resources import files

from services.dossiers.reference_data import upsert_procedure
from services.dossiers.schemas import ProcedureIn
from shared.service import ServiceContext

# The simulated province's catalogue and the live demo's short procedures, read as data (the
# services import nothing of the simulator), so that the demo's procedures are the ones its dossiers name.
CATALOGUES = [files("simulator") / "procedures.json", files("simulator") / "demo_procedures.json"]


async def load_demo(context: ServiceContext) -> None:
    async with context.uow() as uow:
        for item in (item for catalogue in CATALOGUES for item in json.loads(catalogue.read_text(encoding="utf-8"))):
            fields = {k: item[k] for k in ProcedureIn.model_fields if k in item}
            fees = [{"code": f.get("code"), "name": f["name"], "amount": f["amount"]} for f in item.get("fees", [])]
            await upsert_procedure(uow, item["ma_tthc"], ProcedureIn.model_validate({**fields, "fees": fees}))
        await uow.commit()
