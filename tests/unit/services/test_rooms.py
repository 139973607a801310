"""Every service has the same rooms, so a reader knows where everything is (docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.catalog import SERVICE_NAMES

SERVICES = Path(__file__).parents[3] / "services"
ROOMS = ("app.py", "api.py", "graphql.py", "models.py", "schemas.py", "events.py", "handlers.py")


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_a_service_has_every_room(name: str):
    folder = SERVICES / name
    missing = [room for room in ROOMS if not (folder / room).is_file()]
    if not (folder / "service.py").is_file() and not (folder / "service" / "__init__.py").is_file():
        missing.append("service.py (or a service/ package)")
    if not any((folder / "migrations" / "versions").glob("*.py")):
        missing.append("migrations/versions/")
    assert missing == [], f"services/{name} lacks {missing}"
