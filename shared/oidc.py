"""OpenID Connect bearer tokens (JWTs) for people, checked with pyjwt against the identity
provider's JWKS (fetched once, cached ``auth_jwt_jwks_lifespan`` seconds, fetched again when a
token names a key id not in the cache, the provider having rotated its keys, but not more often
than every ``auth_jwt_jwks_cooldown`` seconds: tokens with made-up key ids cannot flood it)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import jwt

from shared.auth import ROLES, Principal
from shared.settings import Settings

log = logging.getLogger(__name__)


class OidcVerifier:
    def __init__(self, settings: Settings) -> None:
        assert settings.auth_jwt_jwks_url is not None
        self._settings = settings
        self._jwks = jwt.PyJWKClient(
            settings.auth_jwt_jwks_url,
            cache_jwk_set=True,
            lifespan=settings.auth_jwt_jwks_lifespan,
            cooldown_duration=settings.auth_jwt_jwks_cooldown,
            timeout=10,
        )

    async def authenticate(self, token: str) -> Principal | None:
        """The person a valid token names, or None (the reason is logged, never the token)."""
        s = self._settings
        try:
            # the JWKS client fetches over blocking HTTP when its cache is cold or stale
            signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            claims = jwt.decode(
                token,
                signing_key.key,
                algorithms=s.auth_jwt_algorithms,
                audience=s.auth_jwt_audience,
                issuer=s.auth_jwt_issuer,
                leeway=s.auth_jwt_leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            log.info("bearer token refused: %s", type(exc).__name__)
            return None
        roles = self._roles(_claim(claims, s.auth_jwt_role_claim))
        if not roles:
            log.info("bearer token refused: no cchc role in claim %s", s.auth_jwt_role_claim)
            return None
        unit = _claim(claims, s.auth_jwt_unit_claim)
        return Principal(
            subject=f"user:{claims['sub']}", roles=roles, unit=str(unit) if isinstance(unit, str | int) else None
        )

    def _roles(self, value: Any) -> frozenset[str]:
        names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        mapping = self._settings.auth_jwt_role_map
        mapped = (mapping.get(n) if mapping else n for n in names if isinstance(n, str))
        return frozenset(r for r in mapped if r in ROLES)


def _claim(claims: dict[str, Any], path: str) -> Any:
    """A claim by a dotted path (``realm_access.roles``), None when absent."""
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value
