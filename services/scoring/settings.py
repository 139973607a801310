"""The scoring service's settings (``CCHC_SCORING_*``): composed with the kernel's and the other
services' into the process's settings (shared/settings.py)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from shared.settings import Settings


class ScoringSettings(Settings):
    """Its database, and how long the publisher sleeps at most when nothing wakes it."""

    scoring_database_url: SecretStr | None = None
    # the publisher wakes on every batch the consumer commits; marks left by another process
    # (``cchc scoring rebuild``) are noticed within this many seconds
    scoring_publisher_max_sleep: float = Field(default=1.0, gt=0)
