"""The composition root's list of services (the only module that knows all four)."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module

from shared.service import ServiceDefinition
from shared.settings import Settings, compose

SERVICE_NAMES: tuple[str, ...] = ("plans", "dossiers", "scoring", "notifications")


def definitions(names: Sequence[str] = SERVICE_NAMES) -> list[ServiceDefinition]:
    """The definitions of the named services, in the canonical order."""
    unknown = set(names) - set(SERVICE_NAMES)
    if unknown:
        raise ValueError(f"unknown service(s): {', '.join(sorted(unknown))}")
    return [import_module(f"services.{name}.app").service for name in SERVICE_NAMES if name in names]


def settings_class(names: Sequence[str] = SERVICE_NAMES) -> type[Settings]:
    """The settings class of a process running the named services: the kernel's fields and theirs."""
    return compose(*(d.settings for d in definitions(names)))
