"""Bodies too large, of the wrong type or too slow, against plans and dossiers served by a real
uvicorn on loopback (raw sockets where a client library would send the body anyway): refused at
once, with problem+json, without the body being read; a normal request still passes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest

from services.catalog import definitions
from shared.app_factory import create_root_app
from shared.runtime import Runtime
from tests.support import principals
from tests.support.live_server import live_server

MB = 1024 * 1024
PROCEDURE = {"name": "Đăng ký khai sinh", "amount": 3, "unit": "working_days"}
UNIT = {"name": "UBND xã Cẩm Quang", "level": "commune"}
BATCH = {"service": "DongBoHoSoMC", "isUpdating": False, "data": []}


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the limits are the HTTP layer's: one database is enough


@asynccontextmanager
async def _noop(_: Any) -> AsyncIterator[None]:
    yield


@pytest.fixture
async def served(make_settings: Callable[..., Any]) -> AsyncIterator[Callable[..., Any]]:
    """Start plans and dossiers with the given settings behind a real uvicorn; yields (host, port, url)."""
    stack: list[tuple[Runtime, Any]] = []

    async def start(**overrides: Any) -> tuple[str, int, str]:
        settings = await make_settings("plans", "dossiers", **overrides)
        runtime = Runtime(definitions(["plans", "dossiers"]), settings)
        await runtime.start(migrate=True)
        app = create_root_app(list(runtime.contexts.values()), _noop)
        principals.install(app)  # every request an administrator's: authentication is tested elsewhere
        server = live_server(app)
        url = await server.__aenter__()
        stack.append((runtime, server))
        host, port = url.removeprefix("http://").split(":")
        return host, int(port), url

    yield start
    for runtime, server in reversed(stack):
        await server.__aexit__(None, None, None)
        await runtime.stop()


async def raw_request(host: str, port: int, head: str, body: bytes = b"", *, timeout: float = 5) -> tuple[int, dict]:
    """Send a request head (and as much ``body``) on a new connection; the status and problem of the answer."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(head.encode() + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout)  # until the server closes the connection
    finally:
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), orjson.loads(rest.partition(b"\r\n\r\n")[2])


def head(method: str, path: str, length: int, content_type: str = "application/json") -> str:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: cchc.test\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("method", "path", "declared"),
    [
        ("POST", "/graphql", 200 * MB),
        ("POST", "/dossiers/graphql", 200 * MB),
        ("PUT", "/dossiers/v1/procedures/1.000001", 50 * MB),
        ("PUT", "/plans/v1/units/000.00.12.H42", 50 * MB),
        ("POST", "/dossiers/v1/sync/dvcqg", 200 * MB),
    ],
)
async def test_a_declared_oversized_body_is_refused_before_a_byte_of_it_is_read(served, method, path, declared):
    host, port, url = await served()
    started = time.perf_counter()
    # only the head is sent: an answer proves the server did not wait for (nor read) the body
    status, problem = await raw_request(host, port, head(method, path, declared))
    assert time.perf_counter() - started < 2
    assert status == 413 and problem["code"] == "body_too_large"


async def test_normal_bodies_still_pass_on_those_routes(served):
    host, port, url = await served()
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:  # a loaded CI machine: not httpx's 5 s
        assert (await client.put("/dossiers/v1/procedures/1.000001", json=PROCEDURE)).status_code == 200
        assert (await client.put("/plans/v1/units/000.00.12.H42", json=UNIT)).status_code == 200
        assert (await client.post("/dossiers/v1/sync/dvcqg", json=BATCH)).status_code == 200
        answer = await client.post("/graphql", json={"query": "{ dossiers(first: 1) { items { maHoSo } } }"})
        assert answer.status_code == 200 and "errors" not in answer.json()


async def test_a_streamed_body_is_cut_off_once_past_the_limit(served):
    """Without Content-Length the bytes are counted as they come: the answer comes after about
    the limit, not after the 200 MB the client would send."""
    host, port, url = await served(limits_graphql_max_bytes=64 * 1024)
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        while sent < 200 * MB:
            sent += 64 * 1024
            yield b" " * (64 * 1024)

    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        try:
            answer = await client.post("/graphql", content=endless(), headers={"content-type": "application/json"})
        except httpx.TransportError:  # the server closed the connection while the client still wrote
            answer = None
    # the socket buffers take some megabytes more than the server reads, never the 200 MB
    assert sent < 20 * MB
    if answer is not None:
        assert answer.status_code == 413 and answer.json()["code"] == "body_too_large"


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/dossiers/v1/sync/dvcqg", "text/plain", orjson.dumps(BATCH)),
        ("/dossiers/v1/sync/dvcqg", "application/x-www-form-urlencoded", b"service=DongBoHoSoMC&data=x"),
        ("/dossiers/v1/sync/dvcqg", "multipart/form-data; boundary=x", b"--x--\r\n"),
        ("/dossiers/v1/procedures/1.000001", "text/plain", orjson.dumps(PROCEDURE)),
        ("/graphql", "text/plain", orjson.dumps({"query": "{ dossiersStatus { service } }"})),
    ],
)
async def test_a_body_a_cross_site_form_could_send_is_refused(served, path, content_type, body):
    host, port, url = await served()
    method = "PUT" if "procedures" in path else "POST"
    async with httpx.AsyncClient(base_url=url) as client:
        refused = await client.request(method, path, content=body, headers={"content-type": content_type})
        assert refused.status_code == 415 and refused.json()["code"] == "unsupported_media_type"
        assert refused.headers["content-type"] == "application/problem+json"
        accepted = await client.request(method, path, content=body, headers={"content-type": "application/json"})
        assert accepted.status_code != 415


async def test_connections_that_never_finish_their_body_are_answered_and_closed(served):
    """500 connections send a head announcing a body and then nothing: each gets a 408 and is closed
    once the body timeout has passed, while a normal request is served meanwhile."""
    host, port, url = await served(limits_body_timeout=1.0)
    stuck = []
    for _ in range(500):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(head("POST", "/dossiers/v1/sync/dvcqg", 10_000).encode() + b'{"service": ')
        stuck.append((reader, writer))
    await asyncio.gather(*(w.drain() for _, w in stuck))
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        assert (await client.get("/dossiers/v1/dossiers", params={"limit": 1})).status_code == 200

    async def answer(reader: asyncio.StreamReader) -> bytes:
        return await asyncio.wait_for(reader.read(), 10)  # read() returns once the server closed

    answers = await asyncio.gather(*(answer(r) for r, _ in stuck))
    assert time.perf_counter() - started < 10
    assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers)
    assert all(b'"code":"request_timeout"' in a for a in answers)
    for _, writer in stuck:
        writer.close()


def multipart_graphql(query: str) -> tuple[str, bytes]:
    """A multipart GraphQL request (as an upload sends it) carrying ``query`` and no file."""
    boundary = "cchc-upload"
    parts = [("operations", orjson.dumps({"query": query, "variables": {}})), ("map", b"{}")]
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
        for name, value in parts
    )
    return f"multipart/form-data; boundary={boundary}", body + f"--{boundary}--\r\n".encode()


async def slowly(host: str, port: int, content_type: str, body: bytes, seconds: float) -> bytes:
    """POST ``body`` to /graphql in four parts spread over ``seconds``; the raw answer (read as it
    comes, so an answer the server gives before the body is all sent is kept)."""
    reader, writer = await asyncio.open_connection(host, port)

    async def answer() -> bytes:
        received = b""
        try:
            while chunk := await reader.read(65536):
                received += chunk
        except ConnectionError:  # the server closed while we still wrote: what it said is kept
            pass
        return received

    listening = asyncio.create_task(answer())
    try:
        extra = "Apollo-Require-Preflight: 1\r\nConnection: close\r\n\r\n"
        writer.write(head("POST", "/graphql", len(body), content_type).replace("\r\n\r\n", "\r\n" + extra).encode())
        step = -(-len(body) // 4)
        for i in range(0, len(body), step):
            await asyncio.sleep(seconds / 4)
            if listening.done():
                break
            writer.write(body[i : i + step])
            await writer.drain()
    except ConnectionError:  # the server answered and closed before the body was all sent
        pass
    finally:
        received = await asyncio.wait_for(listening, 10)
        writer.close()
    return received


async def test_an_upload_has_the_upload_timeout_and_other_graphql_bodies_the_body_timeout(served):
    host, port, url = await served(limits_body_timeout=1.0, limits_upload_timeout=10.0)
    content_type, body = multipart_graphql("{ __typename }")
    upload = await slowly(host, port, content_type, body, seconds=2)
    assert upload.startswith(b"HTTP/1.1 200 ") and b"__typename" in upload
    json = await slowly(host, port, "application/json", orjson.dumps({"query": "{ __typename }"}), seconds=2)
    assert json.startswith(b"HTTP/1.1 408 ")  # positive control: the same pace, as JSON, is cut off
