"""Acting as any principal in the unit-scope tests, in one place: a test header read by an
override of ``get_principal`` (the authentication middleware lets a request through to an
override: tests only, no setting reaches it). Real keys and tokens, and what each role may call,
are tested in tests/integration/auth.

A request without the header is a whole-system admin.
"""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from starlette.routing import Mount

from shared.auth import ADMIN, INTEGRATION, UNIT_OFFICER, VIEWER, Principal, get_principal

HEADER = "x-test-principal"


def officer(unit: str | None) -> Principal:
    return Principal(subject=f"officer-{unit}", unit=unit, roles=frozenset({UNIT_OFFICER}))


def viewer(unit: str | None = None) -> Principal:
    return Principal(subject=f"viewer-{unit}", unit=unit, roles=frozenset({VIEWER}))


def integration(unit: str | None) -> Principal:
    return Principal(subject=f"integration-{unit}", unit=unit, roles=frozenset({INTEGRATION}), key_id=f"key-{unit}")


def admin(unit: str | None = None) -> Principal:
    return Principal(subject=f"admin-{unit}", unit=unit, roles=frozenset({ADMIN}))


def as_principal(principal: Principal) -> dict[str, str]:
    """The headers of a request made as ``principal``."""
    fields = {"subject": principal.subject, "unit": principal.unit, "roles": sorted(principal.roles)}
    return {HEADER: json.dumps({**fields, "key_id": principal.key_id})}


async def _from_header(request: Request) -> Principal:
    raw = request.headers.get(HEADER)
    if raw is None:
        return admin()
    fields = json.loads(raw)
    return Principal(
        subject=fields["subject"], unit=fields["unit"], roles=frozenset(fields["roles"]), key_id=fields["key_id"]
    )


def install(app: FastAPI) -> None:
    """Let requests to ``app`` (a root app) and to every service app mounted in it name their principal."""
    app.dependency_overrides[get_principal] = _from_header
    for route in app.routes:
        if isinstance(route, Mount) and isinstance(route.app, FastAPI):
            route.app.dependency_overrides[get_principal] = _from_header
