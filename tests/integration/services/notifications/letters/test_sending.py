"""An issued letter reaches the applicant of an online dossier over real channels, and follows them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from services.notifications.channels.models import Delivery
from tests.integration.services.notifications.letters.conftest import (
    KEY,
    Notifications,
    lateness,
)
from tests.support.notifications import Receiver, SmtpSink, eventually


async def letter_of(n: Notifications) -> dict[str, Any]:
    [letter] = await n.letters()
    return letter


async def test_an_online_dossiers_letter_goes_by_email_with_its_pdf_and_by_sms_and_is_then_delivered(
    start_notifications,
):
    sink = SmtpSink()
    with sink.serving() as port:
        n = await start_notifications(
            notifications_smtp_host="127.0.0.1", notifications_smtp_port=port, notifications_smtp_security="none"
        )
        await n.configure(auto_issue=True)
        await n.deliver("overdue", lateness(channel=2))
        await eventually(lambda: sink.messages)
        letter = await eventually(lambda: _with_status(n, "delivered"))

    message = sink.messages[0]
    assert message["To"] == "hong@example.vn" and letter["number"] in message["Subject"]
    [pdf] = list(message.iter_attachments())
    assert pdf.get_content_type() == "application/pdf" and pdf.get_content().startswith(b"%PDF")
    assert KEY in message.get_body(("plain",)).get_content()
    async with n.runtime["notifications"].db.session() as session:
        channels = sorted(d.channel for d in (await session.scalars(select(Delivery))).all())
    assert channels == ["email", "sms"]  # the SMS is queued too (no provider configured here: it fails alone)
    assert (await n.client.get("/notifications/v1/letters/print-queue")).json()["items"] == []  # not on paper


async def test_a_letter_whose_every_message_fails_is_failed_with_the_reason(start_notifications):
    sink = SmtpSink()
    sink.refuse = "550 5.1.1 mailbox unavailable"
    with sink.serving() as port:
        n = await start_notifications(
            notifications_smtp_host="127.0.0.1", notifications_smtp_port=port, notifications_smtp_security="none"
        )
        await n.configure(auto_issue=True)
        data = lateness(channel=2)
        data["applicant"] = {**data["applicant"], "phone": None}  # e-mail only
        await n.deliver("overdue", data)
        letter = await eventually(lambda: _with_status(n, "failed"))
    assert "550" in (await n.client.get(f"/notifications/v1/letters/{letter['id']}")).json()["failure_reason"]

    queue = (await n.client.get("/notifications/v1/letters/print-queue")).json()["items"]
    assert [item["id"] for item in queue] == [letter["id"]]  # to be handed over on paper instead
    handed = await n.client.post(f"/notifications/v1/letters/{letter['id']}:deliver")
    assert handed.json()["status"] == "delivered"
    assert (await n.client.get("/notifications/v1/letters/print-queue")).json()["items"] == []


async def test_a_unit_that_chose_zalo_sends_the_short_form_through_its_official_account(start_notifications, serve):
    zalo = Receiver((200, {"content-type": "application/json"}, b'{"error": 0, "data": {"msg_id": "zns-1"}}'))
    n = await start_notifications(
        notifications_zalo_url=f"{await serve(zalo)}/send",
        notifications_zalo_token="t0ken",
        notifications_zalo_template_id="241107",
    )
    await n.configure(auto_issue=True, phone_channel="zalo")
    data = lateness(channel=2)
    data["applicant"] = {**data["applicant"], "email": None}  # a mobile number only
    await n.deliver("overdue", data)
    letter = await eventually(lambda: _with_status(n, "delivered"))

    [request] = zalo.requests
    sent = json.loads(request.body)
    assert sent["phone"] == "84912345678" and sent["template_id"] == "241107"
    text = sent["template_data"]["text"]
    assert KEY in text and letter["number"] in text and "xin lỗi" in text.lower()  # Zalo keeps the diacritics
    async with n.runtime["notifications"].db.session() as session:
        assert [d.channel for d in (await session.scalars(select(Delivery))).all()] == ["zalo"]


async def test_a_paper_dossiers_letter_waits_at_the_desk(start_notifications):
    n = await start_notifications()
    await n.configure(auto_issue=True)
    await n.deliver("overdue", lateness(channel=1))
    assert (await letter_of(n))["status"] == "issued"
    async with n.runtime["notifications"].db.session() as session:
        assert (await session.scalars(select(Delivery))).all() == []
    queue = (await n.client.get("/notifications/v1/letters/print-queue")).json()
    assert [item["ma_ho_so"] for item in queue["items"]] == [KEY]


async def _with_status(n: Notifications, status: str) -> dict[str, Any] | None:
    letter = await letter_of(n)
    return letter if letter["status"] == status else None


async def test_an_email_is_never_sent_without_its_letter(start_notifications, monkeypatch):
    async def broken(*args: Any) -> bytes:
        raise RuntimeError("renderer down")

    monkeypatch.setattr("services.notifications.letters.sending.render_pdf_async", broken)
    sink = SmtpSink()
    with sink.serving() as port:
        n = await start_notifications(
            notifications_smtp_host="127.0.0.1", notifications_smtp_port=port, notifications_smtp_security="none"
        )
        await n.configure(auto_issue=True)
        data = lateness(channel=2)
        data["applicant"] = {**data["applicant"], "phone": None}  # e-mail only
        await n.deliver("overdue", data)
        letter = await eventually(lambda: _with_status(n, "failed"))
    assert sink.messages == []  # the e-mail went nowhere without its PDF (the first test shows one that did)
    reason = (await n.client.get(f"/notifications/v1/letters/{letter['id']}")).json()["failure_reason"]
    assert "PDF could not be rendered" in reason
    queue = (await n.client.get("/notifications/v1/letters/print-queue")).json()["items"]
    assert [item["id"] for item in queue] == [letter["id"]]
