"""The authentication seam: every route and resolver gets the calling principal from here.

The :class:`~shared.authentication.Authentication` middleware finds out who calls (an API key
or an OpenID Connect token) and puts the principal in the request's state; :func:`get_principal`
hands it to routes and the GraphQL context. What each role may call is declared per route and
per GraphQL root field in each service's ``access.py`` and enforced in :mod:`shared.access`.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from shared.problems import DomainError

ADMIN = "admin"
UNIT_OFFICER = "unit_officer"
VIEWER = "viewer"
INTEGRATION = "integration"  # the provincial one-stop system: pushes and pulls dossiers, nothing else
ROLES: tuple[str, ...] = (ADMIN, UNIT_OFFICER, VIEWER, INTEGRATION)


@dataclass(frozen=True)
class Principal:
    """Who calls: ``unit`` is the unit whose subtree they see (None: the whole system, see
    :mod:`shared.scope`); ``key_id`` the API key they came with, if any."""

    subject: str
    unit: str | None = None  # None: not unit-scoped (the whole system)
    roles: frozenset[str] = field(default_factory=frozenset)
    key_id: str | None = None

    @property
    def sees_personal_data(self) -> bool:
        """False for a principal whose only role is ``viewer``."""
        return bool(self.roles - {VIEWER})


principal_var: ContextVar[Principal | None] = ContextVar("principal", default=None)
"""The principal of the request being handled (None outside requests: consumers, schedulers)."""


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
    headers = {"WWW-Authenticate": "Bearer"}


async def get_principal(request: Request) -> Principal:
    """Who is calling, as the authentication middleware found out (401 when nobody)."""
    principal: Principal | None = request.scope.get("state", {}).get("principal")
    if principal is None:
        raise Unauthenticated("A valid bearer token is required.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
