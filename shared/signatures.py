"""Standard Webhooks signatures (https://www.standardwebhooks.com): the secrets and the check of
a signed request, with this process's clock and tolerance rather than the library's own.

A signed request carries ``webhook-id`` (the message id, unique per message: the receiver keeps
the ids it has seen to refuse a replay), ``webhook-timestamp`` (Unix seconds) and
``webhook-signature`` (space-separated ``v1,<base64 HMAC-SHA256>`` of ``id.timestamp.body``).
"""

from __future__ import annotations

import base64
import hmac
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from standardwebhooks import Webhook

HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
MAX_ID_LENGTH = 256


def new_secret() -> str:
    """A ``whsec_`` secret: 32 random bytes, base64 (what the ``standardwebhooks`` package reads)."""
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


class InvalidSignature(Exception):
    """The request is not signed, or not validly, or not recently; the message says which."""


@dataclass(frozen=True)
class SignedMessage:
    id: str
    timestamp: datetime


def verify(secret: str, body: bytes, headers: dict[str, str], *, now: datetime, tolerance: timedelta) -> SignedMessage:
    """The message id and instant of a request signed with ``secret`` no more than ``tolerance``
    away from ``now``; :class:`InvalidSignature` otherwise. ``headers`` has lower-case names."""
    msg_id, stamp, signatures = (headers.get(name, "") for name in HEADERS)
    if not (msg_id and stamp and signatures):
        raise InvalidSignature(f"A signed request carries the headers {', '.join(HEADERS)}.")
    if len(msg_id) > MAX_ID_LENGTH:
        raise InvalidSignature(f"webhook-id is longer than {MAX_ID_LENGTH} characters.")
    if not stamp.isdigit() or len(stamp) > 12:
        raise InvalidSignature("webhook-timestamp is not Unix seconds.")
    timestamp = datetime.fromtimestamp(int(stamp), tz=UTC)
    if abs(timestamp - now) > tolerance:
        raise InvalidSignature(f"webhook-timestamp is more than {tolerance.total_seconds():g} s away from now.")
    expected = Webhook(secret).sign(msg_id, timestamp, body).encode()
    if not any(hmac.compare_digest(expected, given.encode()) for given in signatures.split()):
        raise InvalidSignature("No webhook-signature matches the body.")
    return SignedMessage(msg_id, timestamp)
