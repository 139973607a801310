"""OIDC bearer tokens checked against a JWKS served on loopback, with keys this test makes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.catalog import definitions
from shared.app_factory import create_root_app
from shared.oidc import OidcVerifier
from shared.runtime import Runtime
from tests.support.live_server import live_server

ISSUER, AUDIENCE = "https://sso.hatinh.gov.vn/realms/cchc", "cchc-api"


class IdentityProvider:
    """A JWKS endpoint whose keys the test rotates; counts how often it is fetched."""

    def __init__(self) -> None:
        self.keys = {"k1": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
        self.fetches = 0

    def app(self) -> Starlette:
        async def jwks(_: Request) -> JSONResponse:
            self.fetches += 1
            published = [
                {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "alg": "RS256", "use": "sig"}
                for kid, key in self.keys.items()
            ]
            return JSONResponse({"keys": published})

        return Starlette(routes=[Route("/jwks", jwks)])

    def token(self, kid: str = "k1", key: Any = None, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u-42", "iat": now, "exp": now + 300, "roles": ["viewer"]}
        body.update(claims)
        return jwt.encode(
            {k: v for k, v in body.items() if v is not None}, key or self.keys[kid], "RS256", headers={"kid": kid}
        )


@asynccontextmanager
async def _no_lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield


@pytest.fixture
async def provider() -> AsyncIterator[tuple[IdentityProvider, str]]:
    idp = IdentityProvider()
    async with live_server(idp.app()) as base:
        yield idp, f"{base}/jwks"


def oidc_settings(jwks_url: str) -> dict[str, Any]:
    return {
        "auth_jwt_issuer": ISSUER,
        "auth_jwt_audience": AUDIENCE,
        "auth_jwt_jwks_url": jwks_url,
        "auth_jwt_role_claim": "realm_access.roles",
        "auth_jwt_unit_claim": "ma_don_vi",
        "auth_jwt_role_map": {"can-bo": "unit_officer", "lanh-dao": "viewer", "quan-tri": "admin"},
    }


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_tokens_are_checked_and_their_claims_mapped(
    provider: tuple[IdentityProvider, str], make_settings: Callable[..., Any]
) -> None:
    idp, url = provider
    verifier = OidcVerifier(await make_settings(**oidc_settings(url), auth_jwt_jwks_cooldown=0))
    officer = await verifier.authenticate(
        idp.token(roles=None, realm_access={"roles": ["can-bo", "offline_access"]}, ma_don_vi="000.00.12.H42")
    )
    assert officer is not None
    assert officer.roles == {"unit_officer"} and officer.unit == "000.00.12.H42" and officer.subject == "user:u-42"
    assert officer.key_id is None and officer.sees_personal_data
    viewer = await verifier.authenticate(idp.token(roles=None, realm_access={"roles": ["lanh-dao"]}))
    assert viewer is not None and viewer.unit is None and not viewer.sees_personal_data
    # a role the mapping does not name is not taken at face value
    assert await verifier.authenticate(idp.token(roles=None, realm_access={"roles": ["admin"]})) is None
    assert idp.fetches == 1, "the JWKS is cached"

    idp.keys["k2"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # the provider rotates
    assert await verifier.authenticate(idp.token("k2", realm_access={"roles": ["quan-tri"]})) is not None
    assert idp.fetches == 2, "an unknown key id fetches the JWKS again"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_every_bad_token_is_refused_with_401(
    provider: tuple[IdentityProvider, str], make_settings: Callable[..., Any]
) -> None:
    idp, url = provider
    settings = await make_settings("plans", **{**oidc_settings(url), "auth_jwt_role_claim": "roles"})
    runtime = Runtime(definitions(["plans"]), settings)
    await runtime.start(migrate=True, schedulers=False)
    app = create_root_app(list(runtime.contexts.values()), _no_lifespan)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cchc.test") as client:

            async def status(token: str) -> int:
                answer = await client.get("/plans/v1/units", headers={"Authorization": f"Bearer {token}"})
                return answer.status_code

            assert await status(idp.token(roles=["quan-tri"])) == 200
            assert await status(idp.token(roles=["lanh-dao"])) == 200
            refused = {
                "expired": idp.token(roles=["quan-tri"], iat=now - 900, exp=now - 600),
                "wrong issuer": idp.token(roles=["quan-tri"], iss="https://evil.example/realms/cchc"),
                "wrong audience": idp.token(roles=["quan-tri"], aud="another-app"),
                "no audience": idp.token(roles=["quan-tri"], aud=None),
                "bad signature": idp.token(key=stranger, roles=["quan-tri"]),
                "unknown key id": idp.token("k9", key=stranger, roles=["quan-tri"]),
                "no role": idp.token(roles=[]),
                "not before": idp.token(roles=["quan-tri"], nbf=now + 600),
                "unsigned": jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + 60}, None, "none"),
                "malformed": "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln",
                "garbage": "not a token at all",
            }
            for reason, token in refused.items():
                assert await status(token) == 401, reason
            officer = await client.put(
                "/plans/v1/units/000.00.12.H42",
                json={"name": "UBND xã Cẩm Quang", "level": "commune"},
                headers={"Authorization": f"Bearer {idp.token(roles=['can-bo'])}"},
            )
            assert officer.status_code == 403 and officer.json()["code"] == "forbidden"
    finally:
        await runtime.stop()
