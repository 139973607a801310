"""Where a webhook may point: ``http(s)`` URLs that resolve to no link-local or metadata address.

Cloud metadata services (169.254.169.254, fd00:ec2::254, Alibaba's 100.100.100.200) and
link-local networks hand out credentials to whoever asks from inside; a webhook URL must not make
this service ask for an attacker. Loopback and private networks are allowed (partner systems of
a province sit on its private network). ``CCHC_NOTIFICATIONS_WEBHOOK_ALLOWED_HOSTS`` lists hosts
or addresses let through anyway. The check runs when an endpoint is saved and before each batch
of sends (a name may resolve elsewhere later); redirects are never followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Collection
from urllib.parse import urlsplit

METADATA = tuple(
    ipaddress.ip_network(n) for n in ("169.254.169.254/32", "fd00:ec2::254/128", "100.100.100.200/32", "192.0.0.192/32")
)


def forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_link_local or ip.is_unspecified or ip.is_multicast or any(ip in net for net in METADATA)


async def unsafe_reason(url: str, allowed_hosts: Collection[str]) -> str | None:
    """Why ``url`` may not receive webhooks, or ``None`` when it may."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http or https URL with a host"
    host = parts.hostname
    if host in allowed_hosts:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "has an invalid port"
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return f"host {host!r} does not resolve"
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in allowed_hosts and forbidden(address):
            return f"host {host!r} resolves to a link-local or metadata address ({address})"
    return None
