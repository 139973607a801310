"""Deliveries: queued in the caller's transaction (:func:`request_delivery`), sent by the deliveries scheduler."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.channels.adapters import CHANNELS, EMAIL, MAX_TEXT, Attachment, SendFailure, Sent
from services.notifications.channels.addresses import email_address, vn_mobile
from services.notifications.channels.models import Delivery, DeliveryAttachment, DeliveryAttempt
from services.notifications.settings import NotificationsSettings
from shared.db import get_or_404
from shared.problems import DomainError, NotFound
from shared.scope import WHOLE_SYSTEM, Scope
from shared.uow import UnitOfWork


class Undeliverable(DomainError):
    """The delivery cannot be queued as asked (unknown channel, malformed address, text too long)."""

    status = 422
    code = "undeliverable"


def normalised_address(channel: str, to: str) -> str:
    """``to`` as ``channel`` sends to it (an e-mail address; an E.164 Vietnamese mobile number)."""
    return email_address(to) if channel == EMAIL else vn_mobile(to)


async def request_delivery(
    uow: UnitOfWork,
    *,
    unit_code: str | None,
    channel: str,
    to: str,
    subject: str,
    text: str,
    attachments: Sequence[tuple[str, bytes, str]] = (),
    ref_kind: str | None = None,
    ref_id: str | None = None,
) -> Delivery:
    """Queue one message to one address in the caller's transaction; the deliveries scheduler sends it
    once the transaction commits (nothing is sent if it rolls back).

    ``channel`` is ``email``, ``sms`` or ``zalo``; ``to`` an e-mail address or a Vietnamese mobile
    number; ``attachments`` are ``(filename, content, mime type)`` (e-mail only); ``ref_kind`` and
    ``ref_id`` name what the message is about (``letter``, ``42``). Raises :class:`Undeliverable`
    (422) for an unknown channel, a malformed address or a text too long for SMS/Zalo.
    """
    if channel not in CHANNELS:
        raise Undeliverable(
            f"Unknown channel {channel!r}.", errors=[_error("channel", f"one of {', '.join(CHANNELS)}")]
        )
    try:
        address = normalised_address(channel, to)
    except PydanticCustomError as exc:
        raise Undeliverable("The address is not valid for the channel.", errors=[_error("to", exc.message())]) from exc
    limit = MAX_TEXT.get(channel)
    if limit is not None and len(text) > limit:
        raise Undeliverable(
            "The text is too long for the channel.", errors=[_error("text", f"at most {limit} characters on {channel}")]
        )
    if attachments and channel != EMAIL:
        raise Undeliverable("Only e-mail carries attachments.", errors=[_error("attachments", "e-mail only")])
    now = uow.clock.now()
    delivery = Delivery(
        channel=channel,
        unit_code=unit_code,
        to=address,
        subject=subject[:300],
        text=text,
        ref_kind=ref_kind,
        ref_id=ref_id,
        status="queued",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    uow.session.add(delivery)
    if attachments:  # they need the delivery's id; otherwise the commit's flush inserts it with the rest
        await uow.session.flush()
    for filename, content, mime in attachments:
        uow.session.add(DeliveryAttachment(delivery_id=delivery.id, filename=filename, mime=mime, content=content))
    uow.deadlines_moved()
    return delivery


def _error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message, "type": "undeliverable"}


def backoff(settings: NotificationsSettings, attempts: int, asked: float | None) -> float:
    """Seconds before the next try: doubling from the base up to the cap, or longer if the provider
    asked (``Retry-After``, at most a day)."""
    delay = min(
        settings.notifications_delivery_backoff * 2 ** (attempts - 1), settings.notifications_delivery_max_backoff
    )
    return max(delay, min(asked or 0.0, 86_400.0))


def record_outcome(
    session: AsyncSession,
    delivery: Delivery,
    outcome: Sent | SendFailure,
    *,
    started_at: datetime,
    seconds: float,
    settings: NotificationsSettings,
) -> None:
    """Log the attempt and move the delivery on: ``sent``, ``retrying`` (retryable, tries left) or ``failed``."""
    failure = outcome if isinstance(outcome, SendFailure) else None
    finished = started_at + timedelta(seconds=seconds)
    if failure is None:
        assert isinstance(outcome, Sent)
        delivery.status, delivery.next_attempt_at, delivery.finished_at = "sent", None, finished
        delivery.provider_id, delivery.last_error = outcome.provider_id, None
        result = "sent"
    elif failure.retryable and delivery.attempts < settings.notifications_delivery_max_attempts:
        delay = backoff(settings, delivery.attempts, failure.retry_after)
        delivery.status, delivery.next_attempt_at = "retrying", finished + timedelta(seconds=delay)
        delivery.last_error = failure.reason[:2000]
        result = "retry"
    else:
        delivery.status, delivery.next_attempt_at, delivery.finished_at = "failed", None, finished
        delivery.last_error = failure.reason[:2000]
        result = "failed"
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            number=delivery.attempts,
            started_at=started_at,
            duration_ms=round(seconds * 1000),
            outcome=result,
            status_code=failure.status_code if failure else outcome.status_code,
            error=failure.reason[:2000] if failure else None,
        )
    )


async def load_outgoing(session: AsyncSession, ids: Sequence[int]) -> list[tuple[Delivery, list[Attachment]]]:
    deliveries = (await session.scalars(select(Delivery).where(Delivery.id.in_(ids)).order_by(Delivery.id))).all()
    files: dict[int, list[Attachment]] = {}
    for row in (await session.scalars(select(DeliveryAttachment).where(DeliveryAttachment.delivery_id.in_(ids)))).all():
        files.setdefault(row.delivery_id, []).append(Attachment(row.filename, row.content, row.mime))
    return [(d, files.get(d.id, [])) for d in deliveries]


async def list_deliveries(
    session: AsyncSession,
    *,
    status: str | None = None,
    channel: str | None = None,
    ref_kind: str | None = None,
    ref_id: str | None = None,
    unit_code: str | None = None,
    limit: int = 100,
    before: int | None = None,
    scope: Scope = WHOLE_SYSTEM,
) -> Sequence[Delivery]:
    """The notifications log of the units in ``scope``, newest first (``before``: an id to page from)."""
    query = select(Delivery).where(scope.where(Delivery.unit_code)).order_by(Delivery.id.desc()).limit(limit)
    for column, value in (
        (Delivery.status, status),
        (Delivery.channel, channel),
        (Delivery.ref_kind, ref_kind),
        (Delivery.ref_id, ref_id),
        (Delivery.unit_code, unit_code),
    ):
        if value is not None:
            query = query.where(column == value)
    if before is not None:
        query = query.where(Delivery.id < before)
    return (await session.scalars(query)).all()


async def get_delivery(session: AsyncSession, delivery_id: int, scope: Scope = WHOLE_SYSTEM) -> Delivery:
    """The delivery, if it is about a unit in ``scope`` (else it is absent)."""
    delivery = await get_or_404(session, Delivery, delivery_id, f"No delivery {delivery_id}.")
    if not scope.allows(delivery.unit_code):
        raise NotFound(f"No delivery {delivery_id}.")
    return delivery


async def attempts_of(
    session: AsyncSession, delivery_id: int, scope: Scope = WHOLE_SYSTEM
) -> Sequence[DeliveryAttempt]:
    """The attempts of a delivery in ``scope`` (404 for one outside)."""
    if not scope.whole_system:
        await get_delivery(session, delivery_id, scope)
    return (
        await session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id).order_by(DeliveryAttempt.id)
        )
    ).all()
