"""Settings from the environment (``CCHC_`` prefix): the kernel's here, each service's in its own class.

A service declares ``services/<name>/settings.py``: a subclass of :class:`Settings` whose fields
carry the service's prefix (``dossiers_pull_url`` is read from ``CCHC_DOSSIERS_PULL_URL``), named by
its :class:`~shared.service.ServiceDefinition`. A process reads one object: :func:`compose` makes
the class that inherits the kernel's fields and those of every service the process runs, and the
runtime refuses settings that lack the class of one of its services. Service code sees its own
fields through ``DossiersSettings.of(context.settings)``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.auth import ROLES


class Settings(BaseSettings):
    """The kernel's knobs of a cchc process (a service adds its own in a subclass).

    The database of a service comes from ``CCHC_<SERVICE>_DATABASE_URL`` (e.g.
    ``CCHC_PLANS_DATABASE_URL=postgresql+asyncpg://...``), a field its settings class declares;
    without it, the service uses a SQLite file ``<data_dir>/<service>.db`` (embedded mode).
    """

    model_config = SettingsConfigDict(env_prefix="CCHC_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
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
    kafka_max_records: int = Field(
        default=1000,
        ge=1,
        le=10_000,
        description="records a consumer fetches at most, handed on as one batch per topic",
    )
    kafka_fetch_max_wait_ms: int = Field(
        default=500,
        ge=0,
        le=30_000,
        description="how long a fetch may wait at the broker for records to arrive (Kafka's fetch.max.wait.ms)",
    )
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
    consumer_lanes: int = Field(
        default=2,
        ge=1,
        le=8,
        description="transactions a consumer may apply one large batch of a keyed topic in at once, "
        "split by event key (PostgreSQL only; SQLite has one writer)",
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
    event_loop: Literal["auto", "asyncio", "uvloop"] = Field(
        default="auto",
        description="the HTTP server's event loop: auto is the standard asyncio loop for `cchc run` "
        "(one process serving reads beside the push and every consumer) and uvloop for `cchc serve`",
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

    @classmethod
    def of(cls, settings: Settings) -> Self:
        """``settings`` seen as this class: a service reads its own fields through it (the runtime
        checked that the process's settings compose every class its services name)."""
        if not isinstance(settings, cls):
            raise TypeError(f"these settings lack {cls.__name__}: build them with shared.settings.compose")
        return settings

    def database_url(self, service: str) -> str:
        """The SQLAlchemy URL of one service's database (``<service>_database_url``, else SQLite)."""
        explicit: SecretStr | None = getattr(self, f"{service}_database_url", None)
        if explicit is not None:
            return explicit.get_secret_value()
        return f"sqlite+aiosqlite:///{self.data_dir / f'{service}.db'}"


@cache
def compose(*classes: type[Settings]) -> type[Settings]:
    """The settings class of a process running several services: it inherits the kernel's fields
    and those of every class given (one per service; a class already inherited by another counts
    once). The same classes give the same composed class."""
    kept = [c for c in dict.fromkeys(classes) if not any(o is not c and issubclass(o, c) for o in classes)]
    if not kept:
        return Settings
    if len(kept) == 1:
        return kept[0]
    composed: type[Settings] = type("+".join(c.__name__ for c in kept), tuple(kept), {"__module__": __name__})
    return composed
