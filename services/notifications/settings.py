"""The notifications service's settings (``CCHC_NOTIFICATIONS_*``): composed with the kernel's and the other
services' into the process's settings (shared/settings.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator

from shared.settings import Settings


class NotificationsSettings(Settings):
    """Delivery channels (e-mail, SMS, Zalo), webhooks, reminders and digests."""

    notifications_database_url: SecretStr | None = None
    notifications_smtp_host: str | None = Field(
        default=None, description="SMTP server of e-mail deliveries; none sent when unset"
    )
    notifications_smtp_port: int = Field(default=587, ge=1, le=65535)
    notifications_smtp_username: str | None = None
    notifications_smtp_password: SecretStr | None = None
    notifications_smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    notifications_smtp_sender: str = Field(default="cchc@localhost", description="From address of e-mail deliveries")
    notifications_sms_url: str | None = Field(
        default=None, description="the SMS provider's send endpoint; none sent when unset"
    )
    notifications_sms_token: SecretStr | None = None
    notifications_sms_sender: str = Field(default="CCHC", description="brand name the SMS provider shows as sender")
    notifications_zalo_url: str | None = Field(
        default=None, description="Zalo OA/ZNS send endpoint; none sent when unset"
    )
    notifications_zalo_token: SecretStr | None = None
    notifications_zalo_template_id: str | None = None
    notifications_channel_timeout: float = Field(default=15.0, gt=0, description="seconds one send may take")
    notifications_delivery_max_attempts: int = Field(
        default=6, ge=1, description="tries of one delivery before it fails"
    )
    notifications_delivery_backoff: float = Field(
        default=30.0, gt=0, description="first retry delay, seconds, doubled each try"
    )
    notifications_delivery_max_backoff: float = Field(default=3600.0, gt=0, description="longest retry delay, seconds")
    notifications_webhook_retry_schedule: list[float] = Field(
        default=[5, 300, 1800, 7200, 18000, 36000, 36000], description="seconds before each retry of a webhook message"
    )
    notifications_webhook_disable_after: int = Field(
        default=5, ge=1, description="messages in a row whose retries ran out before an endpoint is disabled"
    )
    notifications_webhook_timeout: float = Field(default=15.0, gt=0, description="seconds a receiver has to answer")
    notifications_webhook_concurrency: int = Field(
        default=10, ge=1, description="webhook requests in flight per process"
    )
    notifications_webhook_secret_overlap_hours: float = Field(
        default=24.0, ge=0, description="how long a rotated-out secret still signs, next to the new one"
    )
    notifications_webhook_allowed_hosts: list[str] = Field(
        default=[], description="hosts or addresses allowed even when they resolve to link-local or metadata addresses"
    )
    notifications_reminder_max_per_hour: int = Field(
        default=10, ge=1, description="immediate reminders one contact gets per hour; the rest wait for the digest"
    )
    notifications_digest_hour: int = Field(default=7, ge=0, le=23, description="local hour the daily digests go out")
    notifications_worker_max_sleep: float = Field(
        default=60.0, gt=0, description="longest nap of the delivery, webhook and digest workers, seconds"
    )

    @field_validator("notifications_webhook_retry_schedule")
    @classmethod
    def _schedule(cls, delays: list[float]) -> list[float]:
        if any(d < 0 for d in delays):
            raise ValueError("retry delays are seconds: each must be >= 0")
        return delays
