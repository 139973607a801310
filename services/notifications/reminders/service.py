"""Reminders: one per (subject, kind, due instant), whatever the redeliveries; a notice per contact
of the unit, sent at once or held for the contact's daily digest (asked for, or throttled).

Consumers only record (:func:`remind`); the reminder worker (``worker.py``) dispatches, since the
throttle and the digest hour are settings of the process.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select, update

from services.notifications.channels.adapters import MAX_TEXT
from services.notifications.channels.service import request_delivery
from services.notifications.directory.models import Contact
from services.notifications.directory.schemas import address_for
from services.notifications.reminders import texts
from services.notifications.reminders.models import Notice, Reminder
from services.notifications.settings import NotificationsSettings
from shared.clock import VN_TZ
from shared.db import upsert
from shared.uow import UnitOfWork

BATCH = 200
PENDING, SENT, DIGEST, DIGESTED, WITHDRAWN = "pending", "sent", "digest", "digested", "withdrawn"


@dataclass(frozen=True)
class Reminding:
    """What a reminder says, to which unit, about what: one per (subject, kind, due_key)."""

    subject: str
    kind: str
    due_key: str
    unit_code: str
    title: str
    text: str


async def remind(uow: UnitOfWork, reminding: Reminding) -> bool:
    """Record a reminder and a pending notice for each active contact of its unit; False (and
    nothing written) when this (subject, kind, due) was reminded already."""
    now = uow.clock.now()
    session = uow.session
    inserted = await session.execute(
        upsert(session, Reminder.__table__)
        .values(**{**asdict(reminding), "title": reminding.title[:300]}, created_at=now)
        .on_conflict_do_nothing(index_elements=["subject", "kind", "due_key"])
        .returning(Reminder.__table__.c.id)
    )
    reminder_id = inserted.scalar_one_or_none()
    if reminder_id is None:
        return False
    contacts = (
        await session.scalars(select(Contact.id).where(Contact.unit_code == reminding.unit_code, Contact.active))
    ).all()
    session.add_all(Notice(reminder_id=reminder_id, contact_id=c, status=PENDING, created_at=now) for c in contacts)
    if contacts:
        uow.deadlines_moved()
    return True


async def withdraw_unsent(uow: UnitOfWork, subject: str) -> None:
    """The duty behind ``subject`` was lifted: its reminders' notices not sent yet (pending, or
    held for a digest) are ``withdrawn`` and never go."""
    await uow.session.execute(
        update(Notice)
        .where(
            Notice.status.in_((PENDING, DIGEST)),
            Notice.reminder_id.in_(select(Reminder.id).where(Reminder.subject == subject)),
        )
        .values(status=WITHDRAWN)
    )


def digest_instant(after: datetime, hour: int) -> datetime:
    """The first digest time (``hour`` o'clock in Việt Nam) strictly after ``after``."""
    local = after.astimezone(VN_TZ)
    at = datetime.combine(local.date(), time(hour), VN_TZ)
    return at if at > local else at + timedelta(days=1)


async def next_due(uow: UnitOfWork, settings: NotificationsSettings) -> datetime | None:
    """When the scheduler has something to do: now for pending notices, else the next digest time."""
    session = uow.session
    pending = await session.scalar(select(func.min(Notice.created_at)).where(Notice.status == PENDING))
    if pending is not None:
        return pending
    held = await session.scalar(select(func.min(Notice.created_at)).where(Notice.status == DIGEST))
    return None if held is None else digest_instant(held, settings.notifications_digest_hour)


async def dispatch_pending(uow: UnitOfWork, settings: NotificationsSettings) -> int:
    """Send or hold the pending notices (at most a batch); how many were handled.

    A contact who asked for a digest, or who got ``CCHC_NOTIFICATIONS_REMINDER_MAX_PER_HOUR``
    immediate reminders in the last hour, gets the notice in the next digest instead."""
    session, now = uow.session, uow.clock.now()
    rows = (
        await session.execute(
            select(Notice, Reminder, Contact)
            .join(Reminder, Reminder.id == Notice.reminder_id)
            .join(Contact, Contact.id == Notice.contact_id)
            .where(Notice.status == PENDING)
            .order_by(Notice.id)
            .limit(BATCH)
            .with_for_update(of=Notice, skip_locked=True)
        )
    ).all()
    recent: dict[int, int] = {}
    for notice, reminder, contact in rows:
        if contact.id not in recent:
            recent[contact.id] = (
                await session.scalar(
                    select(func.count()).where(
                        Notice.contact_id == contact.id,
                        Notice.status == SENT,
                        Notice.sent_at > now - timedelta(hours=1),
                    )
                )
                or 0
            )
        if contact.digest or recent[contact.id] >= settings.notifications_reminder_max_per_hour:
            notice.status = DIGEST
            continue
        for channel in contact.channels:
            await _deliver(uow, contact, channel, reminder.title, reminder.text, ref_id=str(reminder.id))
        notice.status, notice.sent_at = SENT, now
        recent[contact.id] += 1
    return len(rows)


async def send_digests(uow: UnitOfWork, settings: NotificationsSettings) -> int:
    """Each contact's held notices from before the last digest time, in one message per channel;
    claimed by a conditional update, so a digest goes once. How many contacts got one."""
    session, now = uow.session, uow.clock.now()
    cutoff = digest_instant(now, settings.notifications_digest_hour) - timedelta(days=1)  # the last digest time
    held = (
        await session.execute(
            update(Notice)
            .where(Notice.status == DIGEST, Notice.created_at < cutoff)
            .values(status=DIGESTED, sent_at=now)
            .returning(Notice.contact_id, Notice.reminder_id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    by_contact: dict[int, list[int]] = defaultdict(list)
    for contact_id, reminder_id in held:
        by_contact[contact_id].append(reminder_id)
    for contact_id, reminder_ids in by_contact.items():
        contact = await session.get(Contact, contact_id)
        if contact is None:
            continue
        reminders = (
            await session.scalars(select(Reminder).where(Reminder.id.in_(reminder_ids)).order_by(Reminder.id))
        ).all()
        lines = [r.text for r in reminders]
        for channel in contact.channels:
            subject, text = texts.digest(cutoff.astimezone(VN_TZ).date(), lines, MAX_TEXT.get(channel))
            await _deliver(uow, contact, channel, subject, text, ref_id=None)
    return len(by_contact)


async def _deliver(
    uow: UnitOfWork, contact: Contact, channel: str, subject: str, text: str, *, ref_id: str | None
) -> None:
    address = address_for(contact, channel)
    if address is None:
        return
    limit = MAX_TEXT.get(channel)
    short = text if limit is None or len(text) <= limit else text[: limit - 1] + "…"
    await request_delivery(
        uow,
        unit_code=contact.unit_code,
        channel=channel,
        to=address,
        subject=subject,
        text=short,
        ref_kind="reminder" if ref_id else "digest",
        ref_id=ref_id,
    )
