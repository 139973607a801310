"""Per-key rate limits: a token bucket in memory per caller, 429 ``rate_limited`` with ``Retry-After``.

The caller is the API key (``Principal.key_id``) or the person (``Principal.subject``) the
authentication middleware put in ``scope["state"]["principal"]`` — it must run before this one —
else the client's address. Each bucket holds ``limits_rate_burst`` tokens and gains
``limits_rate_per_second``; a request takes one. Buckets are per process: with N replicas a key
gets up to N times the rate. Health, readiness and metrics are not counted.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from shared.auth import Principal
from shared.problems import send_problem
from shared.settings import Settings

UNCOUNTED = ("/healthz", "/readyz", "/metrics")
MAX_BUCKETS = 100_000  # beyond, the least recently used callers are forgotten (they start full again)


class TokenBuckets:
    """One bucket per key; ``take`` answers 0 when a token was taken, else the seconds until one is there."""

    def __init__(self, rate: float, burst: int, now: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._now = now
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, as of)

    def take(self, key: str) -> float:
        now = self._now()
        tokens, since = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - since) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self._buckets[key] = (tokens - 1 if wait == 0 else tokens, now)
        if len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)
        return wait


class RateLimits:
    """Pure ASGI middleware applying :class:`TokenBuckets` to every HTTP request (see the module docstring)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.buckets = TokenBuckets(settings.limits_rate_per_second, settings.limits_rate_burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].endswith(UNCOUNTED):
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(caller(scope))
        if wait == 0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        detail = f"Too many requests; try again in {retry_after} s."
        await send_problem(send, 429, "rate_limited", detail, headers=[(b"retry-after", str(retry_after).encode())])


def caller(scope: Scope) -> str:
    """The key a request is counted under: its API key, its subject, else its client address."""
    principal: Principal | None = scope.get("state", {}).get("principal")
    if principal is not None:
        return f"key:{principal.key_id}" if principal.key_id else f"subject:{principal.subject}"
    client = scope.get("client")
    return f"address:{client[0] if client else 'unknown'}"
