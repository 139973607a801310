"""The people of a unit: added, changed and removed by an administrator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications import service as recipients
from services.notifications.directory.models import Contact
from services.notifications.directory.schemas import ContactIn
from shared.audit import changed
from shared.problems import NotFound
from shared.scope import WHOLE_SYSTEM, Scope
from shared.uow import UnitOfWork

PERSONAL_FIELDS = ("name", "email", "phone", "zalo_phone")


async def add_contact(uow: UnitOfWork, unit_code: str, body: ContactIn, scope: Scope = WHOLE_SYSTEM) -> Contact:
    await recipients.get_recipient(uow.session, unit_code, scope)  # 404 for a unit unknown or out of scope
    now = uow.clock.now()
    contact = Contact(unit_code=unit_code, active=True, created_at=now, updated_at=now, **body.model_dump())
    uow.session.add(contact)
    await uow.session.flush()
    uow.audit("contact.added", "contact", contact.id, {"unit": unit_code, **_changes({}, body.model_dump())})
    return contact


async def replace_contact(
    uow: UnitOfWork, unit_code: str, contact_id: int, body: ContactIn, scope: Scope = WHOLE_SYSTEM
) -> Contact:
    contact = await get_contact(uow.session, unit_code, contact_id, scope)
    values = body.model_dump()
    before = {name: getattr(contact, name) for name in values}
    if differences := _changes(before, values):
        uow.audit("contact.changed", "contact", contact_id, {"unit": unit_code, **differences})
    for name, value in values.items():
        setattr(contact, name, value)
    contact.updated_at = uow.clock.now()
    return contact


async def remove_contact(uow: UnitOfWork, unit_code: str, contact_id: int, scope: Scope = WHOLE_SYSTEM) -> None:
    await uow.session.delete(await get_contact(uow.session, unit_code, contact_id, scope))
    uow.audit("contact.removed", "contact", contact_id, {"unit": unit_code})


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What changed of a person: their name, addresses and numbers only as ``"changed"``."""
    return changed(before, after, hidden=PERSONAL_FIELDS)


async def get_contact(session: AsyncSession, unit_code: str, contact_id: int, scope: Scope = WHOLE_SYSTEM) -> Contact:
    contact = await session.get(Contact, contact_id) if scope.allows(unit_code) else None
    if contact is None or contact.unit_code != unit_code:
        raise NotFound(f"No contact {contact_id} in unit {unit_code!r}.")
    return contact


async def contacts_of(
    session: AsyncSession, unit_code: str, *, active_only: bool = False, scope: Scope = WHOLE_SYSTEM
) -> Sequence[Contact]:
    """The people of a unit in ``scope`` (404 for one outside, as for an unknown unit)."""
    if not scope.whole_system:
        await recipients.get_recipient(session, unit_code, scope)
    query = select(Contact).where(Contact.unit_code == unit_code).order_by(Contact.id)
    if active_only:
        query = query.where(Contact.active)
    return (await session.scalars(query)).all()
