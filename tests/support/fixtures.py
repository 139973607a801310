"""Fixtures for the kernel tests: settings on SQLite or PostgreSQL, and probe runtimes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from services.catalog import SERVICE_NAMES, settings_class
from shared.bus.base import EventBus
from shared.clock import Clock
from shared.runtime import Runtime
from shared.settings import Settings, compose
from tests.support import probe


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class TestSettings(Settings):
    """Settings that also know the databases of the tests' own services (the probe, a bare table)."""

    test_database_urls: dict[str, str] = {}

    def database_url(self, service: str) -> str:
        return self.test_database_urls.get(service) or super().database_url(service)


def settings_for(services: Sequence[str]) -> type[Settings]:
    """The settings class of a test process running ``services``: the real services' classes
    (services/<name>/settings.py) composed with :class:`TestSettings`."""
    return compose(TestSettings, settings_class([name for name in services if name in SERVICE_NAMES]))


@pytest.fixture
async def make_settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Build settings for ``services`` whose databases (one per service name) live on the chosen backend;
    overrides are fields of the kernel's or those services' settings classes."""
    server = request.getfixturevalue("postgres_server") if backend == "postgres" else None
    created: dict[str, str] = {}

    async def build(*services: str, **overrides: Any) -> Settings:
        for name in services:
            if name not in created:
                if server is None:
                    created[name] = f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"
                else:
                    created[name] = await server.create_database(f"{name}_{uuid.uuid4().hex[:12]}")
        values: dict[str, Any] = {"data_dir": tmp_path, "relay_idle_interval": 0.2, "consumer_retry_backoff": 0.01}
        values.update({f"{name}_database_url": url for name, url in created.items() if name in SERVICE_NAMES})
        values["test_database_urls"] = {name: url for name, url in created.items() if name not in SERVICE_NAMES}
        cls = settings_for(list(created))
        unknown = set(overrides) - set(cls.model_fields)
        assert not unknown, f"no settings class of {sorted(created)} declares {sorted(unknown)}"  # else ignored
        settings = cls(**{**values, **overrides})
        for name in services:  # a name the settings do not know would fall back to SQLite, silently
            if f"{name}_database_url" not in overrides:
                assert settings.database_url(name) == created[name], f"the settings have no database for {name!r}"
        return settings

    return build


@pytest.fixture
async def probe_runtime(make_settings: Callable[..., Any]) -> AsyncIterator[Callable[..., Any]]:
    """Start probe runtimes (tables created, bus started) and stop them all at the end.

    Without ``event_bus`` the bus comes from the settings (in-process unless ``bus="kafka"``)."""
    runtimes: list[Runtime] = []
    probe.Behaviour.reset()

    async def start(
        *,
        event_bus: EventBus | None = None,
        clock: Clock | None = None,
        relays: bool = True,
        consumes: bool = True,
        **overrides: Any,
    ) -> Runtime:
        settings = await make_settings("probe", **overrides)
        runtime = Runtime([probe.definition(consumes=consumes)], settings, bus=event_bus, clock=clock)
        await probe.create_tables(runtime["probe"])
        await runtime.start(relays=relays)
        runtimes.append(runtime)
        return runtime

    yield start
    for runtime in runtimes:
        await runtime.stop()
