"""REST routes of the people and addresses of a unit (the admin API of the recipient directory)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from services.notifications.directory import service
from services.notifications.directory.schemas import ContactIn, ContactOut
from shared.bounds import Id
from shared.scope import CurrentScope
from shared.service import Uow

router = APIRouter(tags=["recipients"])
UnitCodePath = Annotated[str, Path(description="A unit code, e.g. 000.00.12.H42")]
ContactId = Annotated[Id, Path(description="The person's id")]


@router.get(
    "/recipients/{unit_code}/contacts", response_model=dict[str, list[ContactOut]], summary="The people of a unit"
)
async def list_contacts(unit_code: UnitCodePath, uow: Uow, scope: CurrentScope) -> dict[str, list[ContactOut]]:
    """The people of a unit that reminders and notices go to, with their addresses and channels."""
    return {
        "items": [ContactOut.shown(c, scope) for c in await service.contacts_of(uow.session, unit_code, scope=scope)]
    }


@router.post(
    "/recipients/{unit_code}/contacts", response_model=ContactOut, status_code=201, summary="Add a person to a unit"
)
async def add_contact(unit_code: UnitCodePath, body: ContactIn, uow: Uow, scope: CurrentScope) -> ContactOut:
    """Add a person to a unit, with the channels reminders reach them by (e-mail, SMS, Zalo) and whether they want one daily digest."""
    contact = await service.add_contact(uow, unit_code, body, scope)
    await uow.commit()
    return ContactOut.shown(contact, scope)


@router.put(
    "/recipients/{unit_code}/contacts/{contact_id}", response_model=ContactOut, summary="Replace a person's details"
)
async def replace_contact(
    unit_code: UnitCodePath, contact_id: ContactId, body: ContactIn, uow: Uow, scope: CurrentScope
) -> ContactOut:
    """Replace a person's details whole (404 when the person is not of this unit)."""
    contact = await service.replace_contact(uow, unit_code, contact_id, body, scope)
    await uow.commit()
    return ContactOut.shown(contact, scope)


@router.delete("/recipients/{unit_code}/contacts/{contact_id}", status_code=204, summary="Remove a person")
async def remove_contact(unit_code: UnitCodePath, contact_id: ContactId, uow: Uow, scope: CurrentScope) -> Response:
    """Remove a person: no more reminders go to them; what was sent stays in the log."""
    await service.remove_contact(uow, unit_code, contact_id, scope)
    await uow.commit()
    return Response(status_code=204)
