"""What one HTTP request may send and take: body size per route, media type, time to send the
body, time to be answered. A pure ASGI middleware, so a refused body is never read.

- A body larger than its route's limit is refused with 413 ``body_too_large``: at once when
  ``Content-Length`` says so (nothing of it is read), else as soon as the bytes streamed in pass it.
- A body must be JSON (``application/json`` or ``*+json``) unless its route declares other media
  types (a multipart upload): 415 ``unsupported_media_type``. A web page cannot post a form or
  ``text/plain`` cross-site to a route without a CORS preflight.
- A client has ``limits_body_timeout`` seconds from the start of the request to send the whole body
  (slow-body attacks): 408 ``request_timeout``, and the connection is closed.
- The application has ``limits_request_timeout`` seconds to answer: it is cancelled (its
  transactions roll back) and the client gets 503 ``timed_out``.

A refusal made by this middleware carries ``Connection: close``: the server then drops the
connection, with whatever of the body the client still meant to send.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.problems import send_problem
from shared.settings import Settings

JSON = ("application/json", "+json")  # a media type equal to the first or ending with the second
MULTIPART = "multipart/form-data"


@dataclass(frozen=True)
class BodyRule:
    """A route (a regular expression over the path below the service's prefix) whose body may be
    larger than ``limits_body_max_bytes`` or of other media types than JSON."""

    path: str
    max_bytes: Callable[[Settings], int]
    multipart: bool = False  # a file upload (multipart/form-data) rather than JSON
    timeout: Callable[[Settings], float] | None = None  # for both the body and the answer, instead of the defaults
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pattern", re.compile(self.path))

    def matches(self, path: str) -> bool:
        return self._pattern.fullmatch(path) is not None


@dataclass(frozen=True)
class _Policy:
    max_bytes: int
    multipart: bool
    body_timeout: float
    request_timeout: float


class RequestLimits:
    """Pure ASGI middleware enforcing the limits of the module docstring. ``rules`` maps a
    service's prefix (``/dossiers``) to the rules of its routes; GraphQL endpoints (``/graphql``,
    ``/<service>/graphql``) take JSON up to ``limits_graphql_max_bytes`` and multipart uploads up
    to ``limits_upload_max_bytes``, within ``limits_upload_timeout``."""

    def __init__(self, app: ASGIApp, settings: Settings, rules: dict[str, Sequence[BodyRule]]) -> None:
        self.app = app
        self.settings = settings
        self.default = _Policy(
            settings.limits_body_max_bytes, False, settings.limits_body_timeout, settings.limits_request_timeout
        )
        self.rules = {prefix: [(rule, self._policy_of(rule)) for rule in found] for prefix, found in rules.items()}

    def _policy_of(self, rule: BodyRule) -> _Policy:
        settings = self.settings
        timeout = rule.timeout(settings) if rule.timeout else None
        return _Policy(
            rule.max_bytes(settings),
            rule.multipart,
            timeout or settings.limits_body_timeout,
            timeout or settings.limits_request_timeout,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        policy = self._policy(scope["path"], headers.get(b"content-type", b""))
        length = _declared_length(headers)
        has_body = length != 0 and (length is not None or b"chunked" in headers.get(b"transfer-encoding", b""))
        if has_body and not _acceptable(headers.get(b"content-type", b""), policy):
            accepted = f"{MULTIPART} or JSON" if policy.multipart else "application/json"
            await _refuse(send, 415, "unsupported_media_type", f"This route takes a body of type {accepted}.")
            return
        if length is not None and length > policy.max_bytes:
            await _refuse(send, 413, "body_too_large", f"The body is larger than {policy.max_bytes} bytes.")
            return
        await self._guarded(scope, receive, send, policy)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, policy: _Policy) -> None:
        body_deadline = asyncio.get_running_loop().time() + policy.body_timeout
        received = 0
        body_done = False
        started = False
        refusal: tuple[int, str, str] | None = None

        async def bounded_receive() -> Message:
            nonlocal received, body_done, refusal
            if refusal is not None:
                return {"type": "http.disconnect"}
            if body_done:  # the app waits for the client to leave (a streamed answer): no deadline
                return await receive()
            try:
                async with asyncio.timeout_at(body_deadline):
                    message = await receive()
            except TimeoutError:
                refusal = (408, "request_timeout", "The request body did not arrive in time.")
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if received > policy.max_bytes:
                    refusal = (413, "body_too_large", f"The body is larger than {policy.max_bytes} bytes.")
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if refusal is not None and not started:
                return  # the application answers a body it never got in full: ours goes instead
            started = True
            await send(message)

        deadline = asyncio.timeout(policy.request_timeout)
        try:
            async with deadline:
                await self.app(scope, bounded_receive, tracked_send)
        except TimeoutError:
            if not deadline.expired():
                raise
            if not started:
                message = f"The request took longer than {policy.request_timeout:g} seconds."
                await _refuse(send, 503, "timed_out", message)
            return
        except Exception:
            if refusal is None or started:
                raise  # an application that fails on a cut-off body is not a failure of the app
        if refusal is not None and not started:
            await _refuse(send, *refusal)

    def _policy(self, path: str, content_type: bytes) -> _Policy:
        settings = self.settings
        if path == "/graphql" or path.endswith("/graphql"):
            if content_type.startswith(MULTIPART.encode()):  # an upload: a table on a slow line
                timeout = settings.limits_upload_timeout
                return _Policy(settings.limits_upload_max_bytes, True, timeout, timeout)
            return replace(self.default, max_bytes=settings.limits_graphql_max_bytes, multipart=True)
        prefix, _, rest = path[1:].partition("/")
        for rule, policy in self.rules.get(f"/{prefix}", ()):
            if rule.matches(f"/{rest}"):
                return policy
        return self.default


def _declared_length(headers: dict[bytes, bytes]) -> int | None:
    value = headers.get(b"content-length")
    return int(value) if value is not None and value.isdigit() else None


def _acceptable(content_type: bytes, policy: _Policy) -> bool:
    media_type = content_type.split(b";", 1)[0].strip().lower().decode("latin-1")
    if policy.multipart and media_type == MULTIPART:
        return True
    return media_type == JSON[0] or media_type.endswith(JSON[1])


async def _refuse(send: Send, status: int, code: str, detail: str) -> None:
    await send_problem(send, status, code, detail, headers=[(b"connection", b"close")])
