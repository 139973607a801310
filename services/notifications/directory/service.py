"""The people of a unit: added, changed and removed by an administrator."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications import service as recipients
from services.notifications.directory.models import Contact
from services.notifications.directory.schemas import ContactIn
from shared.problems import NotFound
from shared.scope import WHOLE_SYSTEM, Scope
from shared.uow import UnitOfWork


async def add_contact(uow: UnitOfWork, unit_code: str, body: ContactIn, scope: Scope = WHOLE_SYSTEM) -> Contact:
    await recipients.get_recipient(uow.session, unit_code, scope)  # 404 for a unit unknown or out of scope
    now = uow.clock.now()
    contact = Contact(unit_code=unit_code, active=True, created_at=now, updated_at=now, **body.model_dump())
    uow.session.add(contact)
    await uow.session.flush()
    return contact


async def replace_contact(
    uow: UnitOfWork, unit_code: str, contact_id: int, body: ContactIn, scope: Scope = WHOLE_SYSTEM
) -> Contact:
    contact = await get_contact(uow.session, unit_code, contact_id, scope)
    for name, value in body.model_dump().items():
        setattr(contact, name, value)
    contact.updated_at = uow.clock.now()
    return contact


async def remove_contact(uow: UnitOfWork, unit_code: str, contact_id: int, scope: Scope = WHOLE_SYSTEM) -> None:
    await uow.session.delete(await get_contact(uow.session, unit_code, contact_id, scope))


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
