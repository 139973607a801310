"""Keyset paging for every list: an opaque cursor (the last key of a page) and a bounded page size.

A cursor is the page's last sort key as URL-safe base64 of JSON; a client only hands it back. A
cursor this API did not give out (or one of another list, whose key has another arity) is a 400
problem naming the ``cursor`` field, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Query, Request

from shared.problems import DomainError

MAX_PAGE = 500
T = TypeVar("T")

Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"items per page, at most {MAX_PAGE}")]


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int = 1) -> list[Any] | None:
    """The key ``cursor`` holds (``arity`` values), or None for the first page."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        key = None
    if not isinstance(key, list) or len(key) != arity:
        raise DomainError(
            "The cursor is not one this API gave out.", errors=[{"field": "cursor", "message": "invalid cursor"}]
        )
    return key


NEXT_LINK = {
    "Link": {
        "description": 'The next page (RFC 8288 `rel="next"`): this request\'s query with the next cursor, as a '
        "reference relative to this URL; absent on the last page. A client can ask for it as soon as the "
        "headers arrive, before reading this page's body.",
        "schema": {"type": "string"},
    }
}  # for a list route's ``responses={200: {"headers": NEXT_LINK}}``


def next_link(request: Request, cursor: str | None) -> dict[str, str]:
    """The ``Link`` header naming the next page (none on the last page): the request's own query,
    its cursor replaced, as a query-only reference, so it resolves against whatever URL the client
    used (an ingress, a prefix)."""
    if cursor is None:
        return {}
    query = request.url.include_query_params(cursor=cursor).query
    return {"Link": f'<?{query}>; rel="next"'}


def next_cursor(found: Sequence[T], limit: int, key: Callable[[T], Any]) -> str | None:
    """The cursor after a page read with ``limit + 1`` rows: None when ``found`` was the last page."""
    return encode_cursor(key(found[limit - 1])) if len(found) > limit else None
