"""The authentication seam: every route and resolver gets the calling principal from here.

Until the security work lands this is permissive (everyone is a system administrator);
authorization is then added in this one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request


@dataclass(frozen=True)
class Principal:
    subject: str
    unit: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    key_id: str | None = None  # the API key's id when authenticated by key


ANONYMOUS_ADMIN = Principal(subject="anonymous", roles=frozenset({"admin"}))


async def get_principal(request: Request) -> Principal:
    """Who is calling. Permissive for now: see the module docstring."""
    return ANONYMOUS_ADMIN


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
