"""The scoring service's settings (``CCHC_SCORING_*``): composed with the kernel's and the other
services' into the process's settings (shared/settings.py)."""

from __future__ import annotations

from pydantic import SecretStr

from shared.settings import Settings


class ScoringSettings(Settings):
    """Only its database so far."""

    scoring_database_url: SecretStr | None = None
