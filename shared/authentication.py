"""The authentication middleware (pure ASGI, outermost after the request context): reads the
bearer token, finds the principal (an API key from the in-memory key ring, or an OIDC token)
and puts it in ``scope["state"]["principal"]`` and :data:`~shared.auth.principal_var`.

Open without a principal: ``/healthz`` and ``/readyz`` (probes), ``/metrics`` (unless
``auth_metrics_token`` is set: then that token) and the API documentation (the schemas, no
data). Everything else, REST and GraphQL, answers 401 problem+json without a valid principal.

Tests of other parts may replace :func:`shared.auth.get_principal` with FastAPI's
``dependency_overrides`` (on the root app or a service app): a request without a token then goes
on, and the override gives the principal. Overrides are a testing device of FastAPI, not a
setting: nothing a deployment configures reaches it.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Collection

from starlette.types import ASGIApp, Receive, Scope, Send

from shared.api_keys import KEY_SCHEME, KeyRing
from shared.auth import Principal, principal_var
from shared.oidc import OidcVerifier
from shared.problems import problem

PROBES = frozenset({"healthz", "readyz"})
DOCUMENTATION = frozenset({"", "docs", "docs/oauth2-redirect", "redoc", "openapi.json"})


class Authentication:
    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: KeyRing,
        oidc: OidcVerifier | None,
        metrics_token: str | None,
        services: Collection[str],
        principal_overridden: Callable[[], bool] = lambda: False,
    ) -> None:
        self.app = app
        self.keys = keys
        self.oidc = oidc
        self.metrics_token = metrics_token
        self.services = frozenset(services)
        self.principal_overridden = principal_overridden

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        endpoint = self._endpoint(scope["path"])
        token = _bearer(scope)
        if endpoint in PROBES or endpoint in DOCUMENTATION:
            await self.app(scope, receive, send)
            return
        if endpoint == "metrics" and (
            self.metrics_token is None or hmac.compare_digest((token or "").encode(), self.metrics_token.encode())
        ):
            await self.app(scope, receive, send)
            return
        principal = await self._principal(token) if token and endpoint != "metrics" else None
        if principal is None:
            if token is None and self.principal_overridden():
                await self.app(scope, receive, send)  # the test's override of get_principal answers
                return
            await _refuse(scope, receive, send, presented=token is not None)
            return
        scope.setdefault("state", {})["principal"] = principal
        reset = principal_var.set(principal)
        try:
            await self.app(scope, receive, send)
        finally:
            principal_var.reset(reset)

    def _endpoint(self, path: str) -> str:
        """The path below the service's mount (``/dossiers/healthz`` -> ``healthz``)."""
        head, _, rest = path.strip("/").partition("/")
        return rest if head in self.services else path.strip("/")

    async def _principal(self, token: str) -> Principal | None:
        if token.startswith(KEY_SCHEME):
            return self.keys.authenticate(token)
        if self.oidc is not None:
            return await self.oidc.authenticate(token)
        return None


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, *, presented: bool) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    detail = "The bearer token is invalid, expired or revoked." if presented else "A bearer token is required."
    response = problem(401, "unauthenticated", detail, code="unauthenticated")
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"' if presented else "Bearer"
    await response(scope, receive, send)
