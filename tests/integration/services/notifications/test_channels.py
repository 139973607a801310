"""Delivery channels against real peers on loopback: an SMTP server, SMS and Zalo providers."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from services.notifications.channels import worker
from services.notifications.channels.adapters import Channels
from services.notifications.channels.models import Delivery, DeliveryAttempt
from services.notifications.channels.service import Undeliverable, request_delivery
from services.notifications.queue import claim_due
from tests.support.notifications import UNIT, Receiver, SmtpSink, eventually, free_port

PDF = b"%PDF-1.7\n% th\xc6\xb0 xin l\xe1\xbb\x97i\n%%EOF\n"


async def queue(service, **fields) -> int:
    async with service.context.uow() as uow:
        delivery = await request_delivery(uow, unit_code=UNIT, **fields)
        await uow.commit()
        return delivery.id


async def state(service, delivery_id: int) -> tuple[Delivery, list[DeliveryAttempt]]:
    async with service.context.db.session() as session:
        delivery = await session.get(Delivery, delivery_id)
        attempts = (
            await session.scalars(
                select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id).order_by(DeliveryAttempt.id)
            )
        ).all()
        return delivery, list(attempts)


async def sweep(service, client: httpx.AsyncClient) -> int:
    return await worker.send_due(
        service.context, Channels.of(service.context.settings, client), service.context.clock.now()
    )


async def test_an_email_with_its_pdf_reaches_a_real_smtp_server_through_the_running_scheduler(start_notifications):
    sink = SmtpSink()
    with sink.serving() as port:
        service = await start_notifications(
            schedulers=True,
            notifications_smtp_host="127.0.0.1",
            notifications_smtp_port=port,
            notifications_smtp_security="none",
            notifications_smtp_sender="mot-cua@camquang.gov.vn",
        )
        delivery_id = await queue(
            service,
            channel="email",
            to="Nguyen.Van.A@example.vn",
            subject="Văn bản xin lỗi số 12/PXL",
            text="Kính gửi ông Nguyễn Văn A,\nUBND xã Cẩm Quang xin lỗi vì hồ sơ trễ hạn.",
            attachments=[("xin-loi-12.pdf", PDF, "application/pdf")],
            ref_kind="letter",
            ref_id="12",
        )
        await eventually(lambda: sink.messages)  # the commit woke the worker: no polling interval to wait for
        delivery, attempts = await eventually(lambda: _sent(service, delivery_id))

    message = sink.messages[0]
    assert message["Subject"] == "Văn bản xin lỗi số 12/PXL"
    assert message["To"] == "Nguyen.Van.A@example.vn" and message["From"] == "mot-cua@camquang.gov.vn"
    assert "Nguyễn Văn A" in message.get_body(("plain",)).get_content()
    [pdf] = list(message.iter_attachments())
    assert (pdf.get_filename(), pdf.get_content_type(), pdf.get_content()) == ("xin-loi-12.pdf", "application/pdf", PDF)
    assert (delivery.ref_kind, delivery.ref_id, delivery.attempts) == ("letter", "12", 1)
    assert delivery.provider_id == message["Message-ID"]
    assert [a.outcome for a in attempts] == ["sent"]


async def _sent(service, delivery_id):
    delivery, attempts = await state(service, delivery_id)
    return (delivery, attempts) if delivery.status == "sent" else None


async def test_an_smtp_server_that_refuses_fails_the_delivery_with_its_reason_and_no_retry(start_notifications, clock):
    sink = SmtpSink()
    sink.refuse = "550 5.1.1 Mailbox does not exist"
    with sink.serving() as port:
        service = await start_notifications(
            clock=clock,
            notifications_smtp_host="127.0.0.1",
            notifications_smtp_port=port,
            notifications_smtp_security="none",
        )
        delivery_id = await queue(
            service,
            channel="email",
            to="khong-co@example.vn",
            subject="Thông báo",
            text="Nội dung",
            attachments=[("a.pdf", PDF, "application/pdf")],
        )
        async with httpx.AsyncClient() as client:
            assert await sweep(service, client) == 1
            service.context.clock.advance(timedelta(days=1))
            assert await sweep(service, client) == 0  # nothing to retry

    delivery, attempts = await state(service, delivery_id)
    assert delivery.status == "failed" and delivery.attempts == 1
    assert "550" in delivery.last_error and "Mailbox does not exist" in delivery.last_error
    assert [(a.outcome, a.error) for a in attempts] == [("failed", delivery.last_error)]
    assert sink.messages == []


async def test_an_unreachable_smtp_server_is_retried_then_fails_when_the_attempts_run_out(start_notifications, clock):
    port = free_port()  # nothing listens there
    service = await start_notifications(
        clock=clock,
        notifications_smtp_host="127.0.0.1",
        notifications_smtp_port=port,
        notifications_smtp_security="none",
        notifications_delivery_max_attempts=3,
        notifications_delivery_backoff=60,
    )
    delivery_id = await queue(service, channel="email", to="a@example.vn", subject="S", text="T")
    async with httpx.AsyncClient() as client:
        await sweep(service, client)
        delivery, _ = await state(service, delivery_id)
        assert delivery.status == "retrying" and delivery.next_attempt_at > clock.now() + timedelta(seconds=59)
        clock.advance(timedelta(seconds=30))
        assert await sweep(service, client) == 0  # not due yet
        for _ in range(2):
            clock.advance(timedelta(minutes=5))
            assert await sweep(service, client) == 1
    delivery, attempts = await state(service, delivery_id)
    assert delivery.status == "failed" and [a.outcome for a in attempts] == ["retry", "retry", "failed"]
    assert "unreachable" in delivery.last_error


@pytest.mark.parametrize("channel", ["sms", "zalo"])
async def test_http_providers_429_with_retry_after_then_500_then_200(start_notifications, serve, clock, channel):
    ok = (
        b'{"id": "sms-77"}' if channel == "sms" else b'{"error": 0, "message": "Success", "data": {"msg_id": "zns-77"}}'
    )
    provider = Receiver(
        (429, {"Retry-After": "600"}, b"slow down"), (500, {}, b"oops"), (200, {"content-type": "application/json"}, ok)
    )
    url = await serve(provider)
    service = await start_notifications(
        clock=clock,
        notifications_delivery_backoff=30,
        notifications_delivery_max_attempts=5,
        **{f"notifications_{channel}_url": f"{url}/send", f"notifications_{channel}_token": "t0ken"},
        notifications_zalo_template_id="241107",
    )
    delivery_id = await queue(
        service,
        channel=channel,
        to="0912 345 678",
        subject="Nhắc việc",
        text="Hạn xin lỗi hôm nay: hồ sơ 000.00.12.H42-250303-0001",
    )
    async with httpx.AsyncClient() as client:
        await sweep(service, client)
        delivery, _ = await state(service, delivery_id)
        assert delivery.status == "retrying"
        assert delivery.next_attempt_at >= clock.now() + timedelta(seconds=600)  # Retry-After beats the 30 s backoff
        clock.advance(timedelta(seconds=599))
        assert await sweep(service, client) == 0
        clock.advance(timedelta(seconds=2))
        assert await sweep(service, client) == 1  # 500: retry after the doubled backoff (60 s)
        clock.advance(timedelta(seconds=61))
        assert await sweep(service, client) == 1

    delivery, attempts = await state(service, delivery_id)
    assert delivery.status == "sent" and delivery.provider_id == ("sms-77" if channel == "sms" else "zns-77")
    assert [(a.outcome, a.status_code) for a in attempts] == [("retry", 429), ("retry", 500), ("sent", 200)]
    assert len(provider.requests) == 3
    request = provider.requests[-1]
    if channel == "sms":
        assert request.headers["authorization"] == "Bearer t0ken"
        assert httpx.Response(200, content=request.body).json()["to"] == "+84912345678"
    else:
        assert request.headers["access_token"] == "t0ken"
        body = httpx.Response(200, content=request.body).json()
        assert (body["phone"], body["template_id"]) == ("84912345678", "241107")
        assert body["template_data"]["text"].startswith("Hạn xin lỗi hôm nay")


async def test_a_4xx_or_a_zalo_error_code_is_not_retried(start_notifications, serve, clock):
    sms = Receiver((400, {}, b'{"error": "bad sender"}'))
    zalo = Receiver(
        (200, {"content-type": "application/json"}, b'{"error": -108, "message": "Phone number is invalid"}')
    )
    service = await start_notifications(
        clock=clock,
        notifications_sms_url=f"{await serve(sms)}/send",
        notifications_zalo_url=f"{await serve(zalo)}/send",
    )
    sms_id = await queue(service, channel="sms", to="+84 912 345 678", subject="S", text="T")
    zalo_id = await queue(service, channel="zalo", to="0387123456", subject="S", text="T")
    async with httpx.AsyncClient() as client:
        assert await sweep(service, client) == 2
    for delivery_id, reason in ((sms_id, "answered 400"), (zalo_id, "error -108 Phone number is invalid")):
        delivery, attempts = await state(service, delivery_id)
        assert delivery.status == "failed" and reason in delivery.last_error and len(attempts) == 1


async def test_a_provider_that_does_not_answer_in_time_is_retried(start_notifications, serve, clock):
    slow = Receiver()
    slow.delay = 1.0
    service = await start_notifications(
        clock=clock, notifications_sms_url=f"{await serve(slow)}/send", notifications_channel_timeout=0.2
    )
    delivery_id = await queue(service, channel="sms", to="0912345678", subject="S", text="T")
    async with httpx.AsyncClient() as client:
        await sweep(service, client)
    delivery, attempts = await state(service, delivery_id)
    assert delivery.status == "retrying" and "timed out" in delivery.last_error
    assert attempts[0].outcome == "retry"


async def test_an_unconfigured_channel_fails_saying_which_setting_is_missing(start_notifications, clock):
    service = await start_notifications(clock=clock)
    delivery_id = await queue(service, channel="sms", to="0912345678", subject="S", text="T")
    async with httpx.AsyncClient() as client:
        await sweep(service, client)
    delivery, _ = await state(service, delivery_id)
    assert delivery.status == "failed" and "CCHC_NOTIFICATIONS_SMS_URL" in delivery.last_error


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"channel": "sms", "to": "0212345678"}, "to"),  # a landline
        ({"channel": "zalo", "to": "+1 202 555 0100"}, "to"),
        ({"channel": "email", "to": "not-an-address"}, "to"),
        ({"channel": "fax", "to": "0912345678"}, "channel"),
        ({"channel": "sms", "to": "0912345678", "text": "x" * 336}, "text"),
        ({"channel": "sms", "to": "0912345678", "attachments": [("a.pdf", PDF, "application/pdf")]}, "attachments"),
    ],
)
async def test_request_delivery_refuses_what_cannot_be_delivered_and_queues_nothing(start_notifications, fields, field):
    service = await start_notifications()
    with pytest.raises(Undeliverable) as refused:
        await queue(service, **{"subject": "S", "text": "T", **fields})
    assert refused.value.status == 422 and [e["field"] for e in refused.value.errors] == [field]
    answer = await service.http.get("/notifications/v1/deliveries")
    assert answer.status_code == 200 and answer.json() == {"items": []}


async def test_the_notifications_log_in_rest_and_graphql(start_notifications, clock):
    service = await start_notifications(clock=clock)
    first = await queue(
        service, channel="sms", to="0912345678", subject="Một", text="T", ref_kind="reminder", ref_id="1"
    )
    second = await queue(
        service, channel="email", to="b@example.vn", subject="Hai", text="T", ref_kind="letter", ref_id="9"
    )
    async with httpx.AsyncClient() as client:
        await sweep(service, client)  # neither channel is configured: both fail at once
    log = (await service.http.get("/notifications/v1/deliveries")).json()["items"]
    assert [(d["id"], d["status"]) for d in log] == [(second, "failed"), (first, "failed")]
    letters = (await service.http.get("/notifications/v1/deliveries", params={"ref_kind": "letter"})).json()["items"]
    assert [d["ref_id"] for d in letters] == ["9"]
    one = (await service.http.get(f"/notifications/v1/deliveries/{first}")).json()
    assert one["to"] == "+84912345678" and [a["outcome"] for a in one["attempt_log"]] == ["failed"]
    assert (await service.http.get("/notifications/v1/deliveries/999")).status_code == 404
    assert (await service.http.get("/notifications/v1/deliveries", params={"status": "lost"})).status_code == 422
    answer = await service.graphql(
        '{ deliveries(channel: "sms") { id status refKind } deliveryAttempts(deliveryId: %d) { outcome } }' % first
    )
    assert answer["data"] == {
        "deliveries": [{"id": first, "status": "failed", "refKind": "reminder"}],
        "deliveryAttempts": [{"outcome": "failed"}],
    }


async def test_a_delivery_claimed_by_a_sender_that_died_is_sent_once_its_lease_ran_out(
    start_notifications, serve, clock
):
    provider = Receiver((200, {}, b"{}"))
    service = await start_notifications(clock=clock, notifications_sms_url=f"{await serve(provider)}/send")
    delivery_id = await queue(service, channel="sms", to="0912345678", subject="S", text="T")
    async with service.context.uow() as uow:  # a sender claims it, then its process dies
        assert await claim_due(uow.session, Delivery, clock.now(), 10) == [delivery_id]
        await uow.commit()
    async with httpx.AsyncClient() as client:
        assert await sweep(service, client) == 0  # leased: nobody else sends it
        clock.advance(timedelta(minutes=5))
        assert await sweep(service, client) == 1
    delivery, attempts = await state(service, delivery_id)
    assert delivery.status == "sent" and len(provider.requests) == 1 and delivery.attempts == 2
