"""One time format for every instant the services write out (REST, GraphQL, events): ISO 8601 with
Vietnam's offset, ``2024-04-15T09:15:00+07:00`` (Asia/Ho_Chi_Minh keeps no daylight saving time, so
the offset is always ``+07:00``), whatever zone the instant was computed or stored in.

Filters on instants also take a date alone, meaning that day in Vietnam time: a lower bound
(``…_from``) starts at 00:00 of the day, an upper bound (``…_to``, exclusive) at 00:00 of the next
day, so the whole day is in. A multi-valued filter takes its values repeated (``status=4&status=2``)
or separated by commas (``status=4,2``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from shared.clock import VN_TZ

T = TypeVar("T")

# What every instant written out looks like (microseconds only when it has some).
VN_INSTANT_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+07:00$"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def vn_iso(instant: datetime) -> str:
    """``instant`` as ISO 8601 in Vietnam time; a naive one is taken as UTC (how the databases keep them)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(VN_TZ).isoformat()


WRITTEN = PlainSerializer(vn_iso, return_type=str, when_used="json")
"""Writes an instant as :func:`vn_iso` does (JSON only: Python code keeps the datetime)."""
WRITTEN_SCHEMA = WithJsonSchema(
    {"type": "string", "format": "date-time", "pattern": VN_INSTANT_PATTERN, "examples": ["2024-04-15T09:15:00+07:00"]},
    mode="serialization",
)
"""What OpenAPI says of a written instant, so a client (and the response-conformance test) can check it."""

VnInstant = Annotated[datetime, WRITTEN, WRITTEN_SCHEMA]
"""An instant a schema writes out: always ISO 8601 with ``+07:00``."""


def _as_day(value: object) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DAY.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None  # pydantic then says why the text is no instant
    return None


def day_start(value: object) -> object:
    """A date alone as 00:00 of that day in Vietnam; anything else unchanged."""
    day = _as_day(value)
    return value if day is None else datetime.combine(day, time(), VN_TZ)


def day_end(value: object) -> object:
    """A date alone as 00:00 of the next day in Vietnam (an exclusive upper bound); anything else unchanged."""
    day = _as_day(value)
    return value if day is None else datetime.combine(day + timedelta(days=1), time(), VN_TZ)


def filter_schema(edge: str) -> WithJsonSchema:
    """What OpenAPI says of a filter bound that takes a date alone (``edge``: what the date means)."""
    return WithJsonSchema(
        {
            "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}],
            "description": f"An instant with its offset (e.g. 2024-04-15T09:15:00+07:00), or a date alone: {edge}",
        },
        mode="validation",
    )


def _split_commas(value: Any) -> Any:
    """``["4,2", "7"]`` → ``["4", "2", "7"]``: a filter's values repeated or separated by commas."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return value
    parts: list[Any] = []
    for item in value:
        if isinstance(item, str) and "," in item:
            parts.extend(part.strip() for part in item.split(",") if part.strip())
        else:
            parts.append(item)
    return parts


Several = Annotated[list[T], BeforeValidator(_split_commas)]
"""A multi-valued filter: ``?status=4&status=2`` or ``?status=4,2``."""
