"""The channels behind one small interface: e-mail over SMTP, SMS and Zalo through HTTP providers.

An adapter sends one message and returns what the provider called it, or raises
:class:`SendFailure` saying whether trying again can help: timeouts, connection errors, HTTP
5xx, 408 and 429 (with its ``Retry-After``) and SMTP 4xx replies can; anything else cannot.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid, parsedate_to_datetime
from typing import Any, Protocol

import aiosmtplib
import httpx

from services.notifications.settings import NotificationsSettings

EMAIL, SMS, ZALO = "email", "sms", "zalo"
CHANNELS = (EMAIL, SMS, ZALO)
# Longest text per channel: five concatenated Unicode SMS parts; Zalo's text limit.
MAX_TEXT = {SMS: 335, ZALO: 2000}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime: str = "application/octet-stream"


@dataclass(frozen=True)
class Outgoing:
    id: int
    to: str
    subject: str
    text: str
    attachments: Sequence[Attachment] = ()


@dataclass(frozen=True)
class Sent:
    provider_id: str | None = None
    status_code: int | None = None


@dataclass
class SendFailure(Exception):
    reason: str
    retryable: bool
    status_code: int | None = None
    retry_after: float | None = None  # seconds the provider asked us to wait

    def __str__(self) -> str:
        return self.reason


class Channel(Protocol):
    name: str

    async def send(self, message: Outgoing) -> Sent: ...


@dataclass
class NotConfigured:
    """A channel whose settings are missing: every message fails at once, saying which setting."""

    name: str
    setting: str

    async def send(self, message: Outgoing) -> Sent:
        raise SendFailure(f"{self.name} is not configured ({self.setting} is unset)", retryable=False)


@dataclass
class SmtpChannel:
    settings: NotificationsSettings
    name: str = EMAIL

    async def send(self, message: Outgoing) -> Sent:
        s = self.settings
        email = EmailMessage()
        email["From"] = s.notifications_smtp_sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Message-ID"] = make_msgid(domain=s.notifications_smtp_sender.rpartition("@")[2] or None)
        email.set_content(message.text)
        for a in message.attachments:
            maintype, _, subtype = a.mime.partition("/")
            email.add_attachment(a.content, maintype=maintype, subtype=subtype or "octet-stream", filename=a.filename)
        password = s.notifications_smtp_password
        try:
            await aiosmtplib.send(
                email,
                hostname=s.notifications_smtp_host,
                port=s.notifications_smtp_port,
                username=s.notifications_smtp_username,
                password=password.get_secret_value() if password else None,
                use_tls=s.notifications_smtp_security == "tls",
                start_tls=s.notifications_smtp_security == "starttls",
                timeout=s.notifications_channel_timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            reasons = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            raise SendFailure(f"recipient refused: {reasons}", retryable=all(400 <= c < 500 for c in codes)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise SendFailure(f"SMTP {exc.code} {exc.message}", retryable=400 <= exc.code < 500) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SendFailure(f"SMTP server unreachable: {type(exc).__name__}: {exc}", retryable=True) from exc
        return Sent(provider_id=email["Message-ID"])


def retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` in seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


async def post_json(
    client: httpx.AsyncClient, url: str, body: Mapping[str, Any], headers: Mapping[str, str], timeout: float
) -> httpx.Response:
    """POST ``body``; a transport failure or a 408/429/5xx answer is a retryable :class:`SendFailure`,
    another non-2xx a permanent one."""
    try:
        response = await client.post(url, json=body, headers=headers, timeout=timeout)
    except httpx.TimeoutException as exc:
        raise SendFailure(f"provider timed out ({type(exc).__name__})", retryable=True) from exc
    except httpx.TransportError as exc:
        raise SendFailure(f"provider unreachable ({type(exc).__name__})", retryable=True) from exc
    if response.is_success:
        return response
    code = response.status_code
    raise SendFailure(
        f"provider answered {code}: {response.text[:300]}",
        retryable=code in (408, 429) or code >= 500,
        status_code=code,
        retry_after=retry_after(response.headers.get("retry-after"), datetime.now(UTC)),
    )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@dataclass
class HttpSmsChannel:
    """A brand-name SMS provider: ``POST {to, text, sender, ref}`` with a bearer token; a 2xx answer
    is accepted, its ``id`` (if any) kept as the provider's message id."""

    settings: NotificationsSettings
    client: httpx.AsyncClient
    name: str = SMS

    async def send(self, message: Outgoing) -> Sent:
        s = self.settings
        headers = (
            {"authorization": f"Bearer {s.notifications_sms_token.get_secret_value()}"}
            if s.notifications_sms_token
            else {}
        )
        body = {"to": message.to, "text": message.text, "sender": s.notifications_sms_sender, "ref": str(message.id)}
        response = await post_json(
            self.client, str(s.notifications_sms_url), body, headers, s.notifications_channel_timeout
        )
        provider_id = _json(response).get("id")
        return Sent(provider_id=str(provider_id) if provider_id is not None else None, status_code=response.status_code)


@dataclass
class ZaloChannel:
    """Zalo Notification Service (ZNS) of an Official Account: a template message to a phone number
    (``84…``), the OA's token in the ``access_token`` header. Zalo answers 200 with ``error`` 0 on
    success; another ``error`` is a refusal (wrong template, number not on Zalo, quota)."""

    settings: NotificationsSettings
    client: httpx.AsyncClient
    name: str = ZALO

    async def send(self, message: Outgoing) -> Sent:
        s = self.settings
        headers = {"access_token": s.notifications_zalo_token.get_secret_value()} if s.notifications_zalo_token else {}
        body = {
            "phone": message.to.removeprefix("+"),
            "template_id": s.notifications_zalo_template_id,
            "template_data": {"subject": message.subject, "text": message.text},
            "tracking_id": str(message.id),
        }
        response = await post_json(
            self.client, str(s.notifications_zalo_url), body, headers, s.notifications_channel_timeout
        )
        answer = _json(response)
        if answer.get("error", 0) != 0:
            raise SendFailure(
                f"Zalo refused: error {answer.get('error')} {answer.get('message', '')}".strip(), retryable=False
            )
        msg_id = (answer.get("data") or {}).get("msg_id")
        return Sent(provider_id=str(msg_id) if msg_id is not None else None, status_code=response.status_code)


@dataclass
class Channels:
    """The adapters of a process, built from the settings (one HTTP client for the providers)."""

    by_name: dict[str, Channel] = field(default_factory=dict)

    @classmethod
    def of(cls, settings: NotificationsSettings, client: httpx.AsyncClient) -> Channels:
        email: Channel = (
            SmtpChannel(settings)
            if settings.notifications_smtp_host
            else NotConfigured(EMAIL, "CCHC_NOTIFICATIONS_SMTP_HOST")
        )
        sms: Channel = (
            HttpSmsChannel(settings, client)
            if settings.notifications_sms_url
            else NotConfigured(SMS, "CCHC_NOTIFICATIONS_SMS_URL")
        )
        zalo: Channel = (
            ZaloChannel(settings, client)
            if settings.notifications_zalo_url
            else NotConfigured(ZALO, "CCHC_NOTIFICATIONS_ZALO_URL")
        )
        return cls({EMAIL: email, SMS: sms, ZALO: zalo})

    def configured(self, channel: str) -> bool:
        return not isinstance(self.by_name[channel], NotConfigured)

    async def send(self, channel: str, message: Outgoing) -> tuple[Sent | SendFailure, float]:
        """Send through ``channel``: the outcome and the seconds it took."""
        started = time.perf_counter()
        try:
            outcome: Sent | SendFailure = await self.by_name[channel].send(message)
        except SendFailure as failure:
            outcome = failure
        return outcome, time.perf_counter() - started
