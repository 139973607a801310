"""The dossiers service's settings (``CCHC_DOSSIERS_*``): composed with the kernel's and the other
services' into the process's settings (shared/settings.py)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from shared.settings import Settings


class DossiersSettings(Settings):
    """Sync limits, push signatures, the provincial feed and the late-detection scheduler."""

    dossiers_database_url: SecretStr | None = None
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
