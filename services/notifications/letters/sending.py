"""An issued letter reaches its applicant (docs/domain.md §5): on paper at the desk for in-person and
postal dossiers (the print queue), by e-mail with the PDF attached and by SMS or Zalo (the unit's
``phone_channel``) in its short form for online ones. The PDF is rendered when the e-mail is
sent, from the letter's frozen content and template version: issuing stays cheap, and the
attachment is the document issued without being stored twice. The letter is ``delivered`` once one
of its messages is sent, ``failed`` once every one failed (or when the applicant left neither an
e-mail address nor a mobile number); a failed letter joins the print queue, to be handed over on
paper."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.channels.adapters import EMAIL, Attachment
from services.notifications.channels.models import Delivery
from services.notifications.channels.service import Undeliverable, request_delivery
from services.notifications.letters.lifecycle import Status, check_transition
from services.notifications.letters.models import Letter, LetterDossier
from services.notifications.letters.policy import UnitPolicy
from services.notifications.letters.regimes import TemplateRef, regime
from services.notifications.letters.rendering import render_pdf_async, short_text
from shared.audit import HIDDEN
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)
PAPER_CHANNELS = (1, 3)  # in person and by post: printed at the desk
REF_KIND = "letter"


async def send(uow: UnitOfWork, letter: Letter, dossier: LetterDossier, policy: UnitPolicy) -> None:
    """Queue the messages of a letter just issued, in the issuing transaction."""
    if letter.channel in PAPER_CHANNELS:
        return
    assert letter.issued_at is not None and letter.number is not None
    form = regime(letter.regime)
    subject = f"{form.title.capitalize()} số {letter.number} (hồ sơ {letter.ma_ho_so})"
    messages: list[tuple[str, str, str]] = []
    if dossier.applicant_email:
        text = short_text(letter.content, form, "zalo", letter.number) + "\nVăn bản kèm theo thư này."
        messages.append(("email", dossier.applicant_email, text))  # the PDF is attached when it is sent
    if dossier.applicant_phone:
        phone = policy.phone_channel
        messages.append((phone, dossier.applicant_phone, short_text(letter.content, form, phone, letter.number)))
    queued, refused = 0, []
    for channel, to, text in messages:
        try:
            await request_delivery(
                uow, unit_code=letter.unit_code, channel=channel, to=to, subject=subject, text=text,
                ref_kind=REF_KIND, ref_id=letter.id,
            )  # fmt: skip
            queued += 1
        except Undeliverable as exc:  # a malformed address: the other channel may still reach them
            refused.append(f"{channel}: {exc.detail}")
    if not queued:
        await mark_failed(
            uow, letter, "; ".join(refused) or "Người nộp không để lại địa chỉ thư điện tử hay số điện thoại di động."
        )


async def attachments(session: AsyncSession, deliveries: Sequence[Delivery]) -> dict[int, list[Attachment]]:
    """The PDF of each letter e-mailed among ``deliveries``, rendered now from what the letter froze
    (by delivery id). A letter that cannot be rendered gets no entry: see :func:`needs_pdf`."""
    wanted = {d.id: d.ref_id for d in deliveries if d.ref_kind == REF_KIND and d.channel == EMAIL and d.ref_id}
    if not wanted:
        return {}
    letters = {x.id: x for x in await session.scalars(select(Letter).where(Letter.id.in_(set(wanted.values()))))}
    found: dict[int, list[Attachment]] = {}
    for delivery_id, letter_id in wanted.items():
        letter = letters.get(letter_id)
        if letter is None or letter.number is None or letter.issued_at is None:
            continue
        try:
            pdf = await render_pdf_async(
                letter.content, TemplateRef(letter.template_id, letter.template_version), letter.issued_at
            )
        except Exception:
            log.exception("letter %s could not be rendered for its e-mail", letter.id)
            continue
        found[delivery_id] = [Attachment(f"xin-loi-{letter.number.replace('/', '-')}.pdf", pdf, "application/pdf")]
    return found


def needs_pdf(delivery: Delivery) -> bool:
    """An e-mail of a letter: it must not go without the letter attached (stored with the
    delivery, or rendered by :func:`attachments`)."""
    return delivery.ref_kind == REF_KIND and delivery.channel == EMAIL


async def deliveries_settled(uow: UnitOfWork, deliveries: Sequence[Delivery]) -> None:
    """Messages of letters were sent or failed for good: each letter follows (delivered once one of
    its messages is sent, failed once every one failed). The letters are locked in id order."""
    settled = [d for d in deliveries if d.ref_kind == REF_KIND and d.ref_id and d.status in ("sent", "failed")]
    if not settled:
        return
    session = uow.session
    ids = sorted({d.ref_id for d in settled if d.ref_id})
    query = select(Letter).where(Letter.id.in_(ids), Letter.status == Status.issued.value).order_by(Letter.id)
    letters = {letter.id: letter for letter in await session.scalars(query.with_for_update())}
    sent = {d.ref_id for d in settled if d.status == "sent" and d.ref_id}
    for letter_id in sent & letters.keys():
        await mark_delivered(uow, letters.pop(letter_id))
    if not letters:
        return
    siblings = select(Delivery.ref_id, Delivery.status).where(
        Delivery.ref_kind == REF_KIND, Delivery.ref_id.in_(letters)
    )
    pending = {ref_id for ref_id, status in await session.execute(siblings) if status != "failed"}
    errors = {d.ref_id: d.last_error for d in settled if d.status == "failed"}
    for letter_id, letter in letters.items():
        if letter_id not in pending:
            await mark_failed(uow, letter, errors.get(letter_id) or "gửi không thành công")


async def mark_delivered(uow: UnitOfWork, letter: Letter) -> None:
    check_transition(letter.status, Status.delivered)
    uow.audit("letter.delivered", "letter", letter.id, {"status": [letter.status, Status.delivered.value]})
    letter.status, letter.delivered_at = Status.delivered.value, uow.clock.now()


async def mark_failed(uow: UnitOfWork, letter: Letter, reason: str) -> None:
    check_transition(letter.status, Status.failed)
    # the reason may hold an address: the log keeps that there is one, not its text
    changes = {"status": [letter.status, Status.failed.value], "failure_reason": HIDDEN}
    uow.audit("letter.failed", "letter", letter.id, changes)
    letter.status, letter.failed_at, letter.failure_reason = Status.failed.value, uow.clock.now(), reason[:2000]
    log.info("letter %s could not be delivered", letter.id)  # the reason may hold an address: not logged
