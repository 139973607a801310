"""Settings from the environment (``CCHC_`` prefix), one object for the whole process."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.auth import ROLES

SERVICE_NAMES: tuple[str, ...] = ("plans", "dossiers", "scoring", "notifications")


class Settings(BaseSettings):
    """Every knob of a cchc process.

    The database of a service comes from ``CCHC_<SERVICE>_DATABASE_URL`` (e.g.
    ``CCHC_PLANS_DATABASE_URL=postgresql+asyncpg://...``); without it, the service uses a
    SQLite file ``<data_dir>/<service>.db`` (embedded mode).
    """

    model_config = SettingsConfigDict(env_prefix="CCHC_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
    plans_database_url: SecretStr | None = None
    dossiers_database_url: SecretStr | None = None
    scoring_database_url: SecretStr | None = None
    notifications_database_url: SecretStr | None = None
    database_pool_size: int = Field(default=10, ge=1)
    database_read_connections: int = Field(
        default=4, ge=1, le=64, description="connections (SQLite: threads) that one-statement reads share, per service"
    )

    bus: Literal["inprocess", "kafka"] = "inprocess"
    kafka_bootstrap_servers: str = "localhost:9092"
    kafka_client_id: str = "cchc"
    kafka_partitions: int = Field(default=6, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)
    kafka_session_timeout_ms: int = Field(default=10_000, ge=1_000)
    kafka_heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = Field(
        default=None, description="CA bundle for SSL/SASL_SSL; the system's when unset"
    )

    relay_batch_size: int = Field(default=1000, ge=1, le=10_000)
    relay_idle_interval: float = Field(
        default=1.0, gt=0, description="seconds between relay checks when nothing woke it"
    )
    outbox_retention_hours: float = Field(
        default=0, ge=0, description="how long published events stay in the outbox; 0: deleted once published"
    )
    processed_events_retention_hours: float = Field(
        default=720,
        gt=0,
        description="how long a consumer remembers an event it processed (its idempotency record); "
        "keep it longer than Kafka's topic retention",
    )
    consumer_max_attempts: int = Field(default=5, ge=1)
    consumer_retry_backoff: float = Field(
        default=0.2, ge=0, description="first retry delay in seconds, doubled each try"
    )

    dossiers_sync_max_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, description="largest sync request body")
    dossiers_sync_max_records: int = Field(default=5_000, ge=1, description="most records in one sync batch")
    dossiers_push_signature_tolerance: float = Field(
        default=300.0, gt=0, description="seconds a signed push's webhook-timestamp may lie from now"
    )
    dossiers_push_secret_overlap_hours: float = Field(
        default=24.0, ge=0, description="how long a rotated-out push secret still verifies, next to the new one"
    )
    dossiers_late_max_sleep: float = Field(
        default=60.0,
        gt=0,
        description="longest the late-detection scheduler sleeps before re-reading the next due instant",
    )
    dossiers_future_tolerance_hours: float = Field(
        default=24,
        ge=0,
        description="how far past now a pushed or pulled instant of something done may lie before it is refused",
    )
    dossiers_pull_url: str | None = Field(
        default=None, description="the provincial system's change feed; no pulling when unset"
    )
    dossiers_pull_token: SecretStr | None = None
    dossiers_pull_interval: float = Field(
        default=30.0, gt=0, description="seconds between polls once the feed is drained"
    )
    dossiers_pull_page_size: int = Field(default=500, ge=1, le=1000)
    plans_reminder_offsets: list[int] = Field(
        default=[5, 1], description="working days before a due date at which task.due_soon is sent"
    )
    plans_reminder_hour: int = Field(
        default=7, ge=0, le=23, description="local hour (Asia/Ho_Chi_Minh) reminders go out"
    )
    plans_scheduler_max_sleep: float = Field(
        default=60.0, gt=0, description="longest nap of the reminder scheduler, seconds"
    )
    plans_import_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024, description="largest plan table accepted")
    plans_import_timeout: float = Field(
        default=600.0, gt=0, description="seconds a plan import has to upload its table and be answered"
    )

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

    limits_body_max_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="largest JSON body of a route that declares no limit of its own"
    )
    limits_graphql_max_bytes: int = Field(default=256 * 1024, ge=1024, description="largest GraphQL JSON request")
    limits_upload_max_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1024, description="largest multipart GraphQL request (a file upload)"
    )
    limits_upload_timeout: float = Field(
        default=600.0,
        gt=0,
        description="seconds a multipart GraphQL request (a file upload) has to send its body and be answered",
    )
    limits_body_timeout: float = Field(
        default=30.0, gt=0, description="seconds a client has, from the start of a request, to send its whole body"
    )
    limits_request_timeout: float = Field(default=60.0, gt=0, description="seconds a request has to be answered")
    limits_keep_alive_timeout: float = Field(
        default=5.0, gt=0, description="seconds an idle keep-alive connection stays open"
    )
    limits_max_concurrency: int = Field(
        default=1000, ge=1, description="connections and requests served at once; beyond, 503"
    )
    limits_rate_per_second: float = Field(default=50.0, gt=0, description="requests per second one caller gains")
    limits_rate_burst: int = Field(default=500, ge=1, description="requests one caller may make in a burst")
    limits_graphql_max_depth: int = Field(default=12, ge=1, description="deepest nesting of a GraphQL query")
    limits_graphql_max_aliases: int = Field(default=30, ge=0, description="aliases in one GraphQL document")
    limits_graphql_max_tokens: int = Field(default=5000, ge=100, description="tokens in one GraphQL document")
    limits_graphql_max_cost: int = Field(
        default=25_000, ge=1, description="estimated fields a GraphQL query may resolve (page sizes multiply)"
    )
    limits_graphql_connections: int = Field(
        default=4, ge=1, description="database sessions one GraphQL request may hold at once"
    )
    auth_key_refresh_interval: float = Field(
        default=1.0, gt=0, le=60, description="seconds between checks of the API keys table for created or revoked keys"
    )
    auth_metrics_token: SecretStr | None = Field(
        default=None, description="bearer token /metrics requires; open when unset"
    )
    auth_jwt_issuer: str | None = Field(default=None, description="issuer (iss) of accepted OIDC tokens")
    auth_jwt_audience: str | None = Field(default=None, description="audience (aud) accepted tokens must name")
    auth_jwt_jwks_url: str | None = Field(
        default=None, description="the identity provider's JWKS; no OIDC tokens accepted when unset"
    )
    auth_jwt_algorithms: list[str] = Field(default=["RS256", "ES256"], description="signature algorithms accepted")
    auth_jwt_role_claim: str = Field(default="roles", description="claim holding the roles; dots walk nested claims")
    auth_jwt_unit_claim: str = Field(default="unit", description="claim holding the unit code the person works for")
    auth_jwt_role_map: dict[str, str] = Field(
        default={}, description="identity provider role -> cchc role; empty: the claim names cchc roles"
    )
    auth_jwt_jwks_lifespan: float = Field(default=300.0, gt=0, description="seconds the JWKS is cached")
    auth_jwt_jwks_cooldown: float = Field(
        default=30.0, ge=0, description="shortest time between two JWKS fetches caused by unknown key ids"
    )
    auth_jwt_leeway: float = Field(default=30.0, ge=0, description="seconds of clock skew tolerated on exp/nbf/iat")

    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("plans_reminder_offsets")
    @classmethod
    def _offsets(cls, offsets: list[int]) -> list[int]:
        if any(o < 1 for o in offsets):
            raise ValueError("reminder offsets are working days before the due date: each must be >= 1")
        return sorted(set(offsets), reverse=True)

    @field_validator("notifications_webhook_retry_schedule")
    @classmethod
    def _schedule(cls, delays: list[float]) -> list[float]:
        if any(d < 0 for d in delays):
            raise ValueError("retry delays are seconds: each must be >= 0")
        return delays

    @field_validator("auth_jwt_role_map")
    @classmethod
    def _role_map(cls, mapping: dict[str, str]) -> dict[str, str]:
        unknown = set(mapping.values()) - set(ROLES)
        if unknown:
            raise ValueError(f"not cchc roles: {', '.join(sorted(unknown))} (roles: {', '.join(ROLES)})")
        return mapping

    @model_validator(mode="after")
    def _jwt_complete(self) -> Settings:
        if self.auth_jwt_jwks_url and not (self.auth_jwt_issuer and self.auth_jwt_audience):
            raise ValueError("auth_jwt_jwks_url needs auth_jwt_issuer and auth_jwt_audience too")
        return self

    @property
    def jwt_enabled(self) -> bool:
        return self.auth_jwt_jwks_url is not None

    def database_url(self, service: str) -> str:
        """The SQLAlchemy URL of one service's database."""
        explicit: SecretStr | None = getattr(self, f"{service}_database_url", None)
        if explicit is not None:
            return explicit.get_secret_value()
        return f"sqlite+aiosqlite:///{self.data_dir / f'{service}.db'}"
