"""The authentication seam: every route and resolver gets the calling principal from here.

Until the security work lands this is permissive (everyone is a system administrator);
authorization is then added in this one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

ADMIN, UNIT_OFFICER, VIEWER, INTEGRATION = "admin", "unit_officer", "viewer", "integration"


@dataclass(frozen=True)
class Principal:
    """Who calls: ``unit`` is the unit whose subtree they see (None: the whole system, see
    :mod:`shared.scope`); ``key_id`` the API key they came with, if any."""

    subject: str
    unit: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    key_id: str | None = None

    @property
    def sees_personal_data(self) -> bool:
        """False for a viewer (and only a viewer): citizens' names, numbers and addresses come masked."""
        return self.roles != {VIEWER}


ANONYMOUS_ADMIN = Principal(subject="anonymous", roles=frozenset({ADMIN}))


async def get_principal(request: Request) -> Principal:
    """Who is calling. Permissive for now: see the module docstring."""
    return ANONYMOUS_ADMIN


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
