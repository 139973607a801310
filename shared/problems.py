"""RFC 9457 problem+json for every error a REST client can get."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import Send

from shared.bounds import control_message

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """A rule of the domain refused the request; carries its HTTP status and a stable code."""

    status: int = 400
    code: str = "domain_error"
    headers: dict[str, str] = {}  # extra response headers of this kind of refusal (read only)

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Forbidden(DomainError):
    """The caller is known but its roles do not allow this."""

    status = 403
    code = "forbidden"


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v not in (None, [])})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


async def send_problem(
    send: Send, status: int, code: str, detail: str, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """A problem+json answer sent by a pure ASGI middleware, before any route runs."""
    body = orjson.dumps({"type": "about:blank", "title": code, "status": status, "detail": detail, "code": code})
    start = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


def field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """One entry per invalid field, with a dotted path a person can find."""
    return [
        {
            "field": ".".join(str(p) for p in err["loc"]),
            "message": control_message(err["type"], err.get("ctx", {}).get("pattern")) or err["msg"],
            "type": err["type"],
        }
        for err in exc.errors()
    ]


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def on_domain_error(_: Request, exc: DomainError) -> JSONResponse:
        response = problem(exc.status, exc.code, exc.detail, code=exc.code, errors=exc.errors, **exc.extra)
        response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(
            422, "invalid_request", "Some fields are invalid.", code="invalid_request", errors=field_errors(exc)
        )

    @app.exception_handler(ClientDisconnect)
    async def on_disconnect(_: Request, exc: ClientDisconnect) -> JSONResponse:
        # the client left, or shared.request_limits cut its body off and answers for it
        return problem(400, "client_disconnected", "The request body ended early.", code="client_disconnected")

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), code="http_error")

    @app.exception_handler(Exception)
    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "internal_error", "An unexpected error occurred; it has been logged.")
