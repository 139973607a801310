"""REST routes of the plans service (mounted at ``/plans``)."""

from __future__ import annotations

from fastapi import APIRouter

from services.plans import service
from services.plans.schemas import UnitIn, UnitLevel, UnitOut
from shared.auth import CurrentPrincipal
from shared.service import Uow

router = APIRouter(prefix="/v1", tags=["units"])


@router.put("/units/{code}", response_model=UnitOut, summary="Register or change a unit")
async def put_unit(code: str, body: UnitIn, uow: Uow, principal: CurrentPrincipal) -> UnitOut:
    unit = await service.upsert_unit(uow, code, body)
    await uow.commit()
    return UnitOut.model_validate(unit)


@router.get("/units/{code}", response_model=UnitOut, summary="One unit")
async def get_unit(code: str, uow: Uow, principal: CurrentPrincipal) -> UnitOut:
    return UnitOut.model_validate(await service.get_unit(uow.session, code))


@router.get("/units", response_model=list[UnitOut], summary="Units, optionally by level or parent")
async def list_units(
    uow: Uow, principal: CurrentPrincipal, level: UnitLevel | None = None, parent_code: str | None = None
) -> list[UnitOut]:
    units = await service.list_units(uow.session, level=level, parent_code=parent_code)
    return [UnitOut.model_validate(u) for u in units]
