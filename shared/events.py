"""The CloudEvents 1.0 envelope, domain events, and the registry of event types."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar, cast

import orjson
import uuid_utils
from pydantic import BaseModel, ConfigDict, Field

from shared.instants import VnInstant, vn_iso

EVENT_TYPE_PREFIX = "vn.cchc."
SPEC_VERSION, CONTENT_TYPE = "1.0", "application/json"


def new_event_id() -> str:
    """A UUIDv7: unique, and ordered by creation, so indexes on event ids grow at one end."""
    return str(uuid_utils.uuid7())


class CloudEvent(BaseModel):
    """CloudEvents 1.0 structured-mode envelope; ``subject`` is the aggregate id and the Kafka key."""

    model_config = ConfigDict(frozen=True)

    specversion: str = SPEC_VERSION
    id: str = Field(default_factory=new_event_id)
    source: str
    type: str
    time: VnInstant
    subject: str
    datacontenttype: str = CONTENT_TYPE
    data: dict[str, Any]

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def encode(cls, *, source: str, time: datetime, event: DomainEvent) -> tuple[str, str]:
        """A new envelope around ``event`` as ``(id, JSON)``: what ``to_json`` of the same envelope
        gives, built in one pass from the typed event (a bulk ingest emits thousands)."""
        event_id = new_event_id()
        envelope = {
            "specversion": SPEC_VERSION,
            "id": event_id,
            "source": source,
            "type": event.type,
            "time": vn_iso(time),
            "subject": event.subject(),
            "datacontenttype": CONTENT_TYPE,
            "data": orjson.Fragment(event.__pydantic_serializer__.to_json(event)),
        }
        return event_id, orjson.dumps(envelope).decode()

    @classmethod
    def from_json(cls, raw: str | bytes) -> CloudEvent:
        """The envelope in ``raw``; ``ValidationError`` (a ``ValueError``) when it is none.

        Here and in :meth:`data_as` the model's validator is called directly: ``model_validate``
        and ``model_validate_json`` check and pass on their unset options first, about 0.4 µs per
        envelope and as much per payload, a few per cent of a consumer's CPU per event."""
        return cast(CloudEvent, cls.__pydantic_validator__.validate_json(raw))

    def data_as(self, model: builtins.type[M]) -> M:
        """The payload read through a consumer's own model (tolerant reader: extra fields ignored)."""
        return cast(M, model.__pydantic_validator__.validate_python(self.data))


class DomainEvent(BaseModel):
    """Base of every published event payload. Subclasses are declared with :func:`event_type`."""

    model_config = ConfigDict(frozen=True)

    type: ClassVar[str]
    subject_field: ClassVar[str]
    summary: ClassVar[str] = ""

    def subject(self) -> str:
        return str(getattr(self, self.subject_field))

    def payload(self) -> dict[str, Any]:
        """The event's fields as JSON-ready values (dates as ISO strings)."""
        return self.model_dump(mode="json")


M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", bound=DomainEvent)


@dataclass(frozen=True)
class EventSpec:
    """What the catalogue knows of one event type."""

    type: str
    service: str
    topic: str
    model: builtins.type[DomainEvent]
    units: tuple[str, ...] = ()  # the fields naming the unit(s) the event is about (a code or a list of codes)
    personal: tuple[str, ...] = ()  # dotted paths of citizens' personal data (shared/personal.py masks them)

    def units_of(self, data: dict[str, Any]) -> set[str]:
        """The units an event of this type is about, read from its payload."""
        found: set[str] = set()
        for name in self.units:
            value = data.get(name)
            found.update(value if isinstance(value, list) else [value] if value else [])
        return {str(v) for v in found}


class EventRegistry:
    """Every event type a process knows, to validate what is published and document it."""

    def __init__(self) -> None:
        self._specs: dict[str, EventSpec] = {}

    def add(self, spec: EventSpec) -> None:
        known = self._specs.get(spec.type)
        if known is not None and known.model is not spec.model:
            raise ValueError(f"event type {spec.type} is declared twice")
        self._specs[spec.type] = spec

    def get(self, type_: str) -> EventSpec | None:
        return self._specs.get(type_)

    def all(self) -> list[EventSpec]:
        return sorted(self._specs.values(), key=lambda s: s.type)


registry = EventRegistry()


def topic_of(service: str) -> str:
    """One topic per producing service."""
    return f"cchc.{service}"


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlt"


def event_type(
    name: str,
    *,
    service: str,
    subject: str,
    version: int = 1,
    units: tuple[str, ...] = (),
    personal: tuple[str, ...] = (),
) -> Callable[[type[E]], type[E]]:
    """Declare a published event: ``@event_type("unit.upserted", service="plans", subject="code")``.

    ``units`` names the fields holding the unit(s) the event is about (a unit-scoped webhook endpoint
    receives it only when one lies in its scope; an event naming none goes to whole-system endpoints
    only); ``personal`` the dotted paths of citizens' personal data in it (masked for the endpoints
    not allowed to see it)."""

    def declare(cls: type[E]) -> type[E]:
        cls.type = f"{EVENT_TYPE_PREFIX}{name}.v{version}"
        cls.subject_field = subject
        for field in (subject, *units, *(p.split(".")[0] for p in personal)):
            if field not in cls.model_fields:
                raise TypeError(f"{cls.__name__} has no field {field!r}")
        spec = EventSpec(cls.type, service, topic_of(service), cls, units=units, personal=personal)
        registry.add(spec)
        return cls

    return declare
