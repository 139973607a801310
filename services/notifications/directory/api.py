"""REST routes of the people and addresses of a unit (the admin API of the recipient directory)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from services.notifications.directory import service
from services.notifications.directory.schemas import ContactIn, ContactOut
from shared.auth import CurrentPrincipal
from shared.service import Uow

UnitCodePath = Annotated[str, Path(description="A unit code, e.g. 000.00.12.H42")]
ContactId = Annotated[int, Path(description="The person's id")]
router = APIRouter(tags=["recipients"])


@router.get(
    "/recipients/{unit_code}/contacts", response_model=dict[str, list[ContactOut]], summary="The people of a unit"
)
async def list_contacts(unit_code: UnitCodePath, uow: Uow, principal: CurrentPrincipal) -> dict[str, list[ContactOut]]:
    """The people of a unit that reminders and notices go to, with their addresses and channels."""
    return {"items": [ContactOut.model_validate(c) for c in await service.contacts_of(uow.session, unit_code)]}


@router.post(
    "/recipients/{unit_code}/contacts", response_model=ContactOut, status_code=201, summary="Add a person to a unit"
)
async def add_contact(unit_code: UnitCodePath, body: ContactIn, uow: Uow, principal: CurrentPrincipal) -> ContactOut:
    """Add a person to a unit, with the channels reminders reach them by (e-mail, SMS, Zalo) and whether they want one daily digest."""
    contact = await service.add_contact(uow, unit_code, body)
    await uow.commit()
    return ContactOut.model_validate(contact)


@router.put(
    "/recipients/{unit_code}/contacts/{contact_id}", response_model=ContactOut, summary="Replace a person's details"
)
async def replace_contact(
    unit_code: UnitCodePath, contact_id: ContactId, body: ContactIn, uow: Uow, principal: CurrentPrincipal
) -> ContactOut:
    """Replace a person's details whole (404 when the person is not of this unit)."""
    contact = await service.replace_contact(uow, unit_code, contact_id, body)
    await uow.commit()
    return ContactOut.model_validate(contact)


@router.delete("/recipients/{unit_code}/contacts/{contact_id}", status_code=204, summary="Remove a person")
async def remove_contact(
    unit_code: UnitCodePath, contact_id: ContactId, uow: Uow, principal: CurrentPrincipal
) -> Response:
    """Remove a person: no more reminders go to them; what was sent stays in the log."""
    await service.remove_contact(uow, unit_code, contact_id)
    await uow.commit()
    return Response(status_code=204)
