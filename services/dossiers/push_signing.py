"""Signed pushes: an integration key's Standard Webhooks secret, the check of a push it signed,
and the message ids seen (a replay is refused).

While a secret is set for a key, every push by that key must be signed with it (or, for
``dossiers_push_secret_overlap_hours`` after a rotation, with the one before). A principal
without a key (a person's token) or a key without a secret pushes unsigned, as before.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.dossiers.models import PushSecret, SeenPushMessage
from services.dossiers.settings import DossiersSettings
from shared.audit import HIDDEN
from shared.auth import Principal
from shared.db import get_or_404
from shared.problems import DomainError
from shared.signatures import InvalidSignature, new_secret, verify
from shared.uow import UnitOfWork


class SignatureRequired(DomainError):
    status = 401
    code = "invalid_signature"


class Replayed(DomainError):
    status = 409
    code = "replayed"


async def rotate_secret(uow: UnitOfWork, key_id: str, settings: DossiersSettings) -> tuple[PushSecret, str]:
    """A new secret for ``key_id`` (returned once, in clear); the old one still verifies for the overlap."""
    now = uow.clock.now()
    secret = new_secret()
    row = await uow.session.get(PushSecret, key_id)
    if row is None:
        row = PushSecret(key_id=key_id, secret=secret, previous=None, previous_until=None, updated_at=now)
        uow.session.add(row)
    else:
        overlap = timedelta(hours=settings.dossiers_push_secret_overlap_hours)
        row.previous, row.previous_until = row.secret, now + overlap
        row.secret, row.updated_at = secret, now
    uow.audit("push_secret.set", "api_key", key_id, {"secret": HIDDEN, "rotated": row.previous is not None})
    return row, secret


async def remove_secret(uow: UnitOfWork, key_id: str) -> None:
    """The key pushes unsigned again."""
    row = await get_or_404(uow.session, PushSecret, key_id, f"No push secret for the key {key_id!r}.")
    await uow.session.delete(row)
    uow.audit("push_secret.removed", "api_key", key_id, {})


async def check_push(
    uow: UnitOfWork, principal: Principal, body: bytes, headers: dict[str, str], settings: DossiersSettings
) -> None:
    """Refuse a push by a key that has a secret unless it is validly signed, recent and new."""
    if principal.key_id is None:
        return
    row = await uow.session.get(PushSecret, principal.key_id)
    if row is None:
        return
    now = uow.clock.now()
    tolerance = timedelta(seconds=settings.dossiers_push_signature_tolerance)
    secrets = [row.secret] + (
        [row.previous] if row.previous and row.previous_until and row.previous_until > now else []
    )
    failure = None
    for secret in secrets:
        try:
            message = verify(secret, body, headers, now=now, tolerance=tolerance)
            break
        except InvalidSignature as exc:
            failure = failure or exc
    else:
        raise SignatureRequired(f"This key signs its pushes (Standard Webhooks): {failure}")
    if not await _first_sight(uow.session, principal.key_id, message.id, now):
        raise Replayed(
            f"The message {message.id!r} was already received.",
            errors=[{"field": "webhook-id", "message": "already received"}],
        )
    # a message older than twice the tolerance can no longer verify: its id need not be kept
    await uow.session.execute(delete(SeenPushMessage).where(SeenPushMessage.seen_at < now - 2 * tolerance))


async def _first_sight(session: AsyncSession, key_id: str, message_id: str, now: datetime) -> bool:
    """Record the message id; False when it was recorded before (also by a concurrent request)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(SeenPushMessage)
        .values(key_id=key_id, message_id=message_id, seen_at=now)
        .on_conflict_do_nothing()
        .returning(SeenPushMessage.message_id)
    )
    return (await session.execute(statement)).first() is not None
