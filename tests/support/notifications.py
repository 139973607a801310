"""Helpers of the notifications tests: the service running in-process, events handed to its
consumer through the bus, and real peers on loopback (an SMTP server, scripted HTTP receivers)."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.catalog import definitions
from shared.app_factory import create_root_app
from shared.bus.base import Message
from shared.clock import Clock
from shared.events import CloudEvent
from shared.runtime import Runtime
from shared.service import ServiceContext
from shared.settings import Settings
from tests.support.auth import admin_headers

UNIT = "000.00.12.H42"


@dataclasses.dataclass
class Notifications:
    runtime: Runtime
    http: httpx.AsyncClient

    @property
    def context(self) -> ServiceContext:
        return self.runtime["notifications"]

    async def deliver(
        self, topic: str, type_: str, subject: str, data: dict[str, Any], *, event_id: str | None = None
    ) -> CloudEvent:
        """Hand one event to the service's consumer through the bus, as a producer's relay would."""
        fields: dict[str, Any] = {
            "source": f"/cchc/{topic.removeprefix('cchc.')}",
            "type": type_,
            "time": self.context.clock.now(),
            "subject": subject,
            "data": data,
        }
        if event_id is not None:
            fields["id"] = event_id
        event = CloudEvent(**fields)
        await self.runtime.bus.publish([Message(topic, subject, event.to_json().encode())])
        return event

    async def register_unit(self, code: str = UNIT, name: str = "UBND xã Cẩm Quang") -> None:
        data = {"code": code, "name": name, "aliases": [], "level": "commune", "parent_code": None, "version": 1}
        await self.deliver("cchc.plans", "vn.cchc.unit.upserted.v1", code, data)

    async def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        answer = await self.http.post("/graphql", json={"query": query, "variables": variables})
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]


@asynccontextmanager
async def _no_lifespan(_: Any) -> AsyncIterator[None]:
    yield


@asynccontextmanager
async def running_notifications(
    settings: Settings, *, clock: Clock | None = None, schedulers: bool = False
) -> AsyncIterator[Notifications]:
    """The notifications service (migrated, consuming from the in-process bus); its deadline
    schedulers (deliveries, webhooks, reminders) run only when asked, otherwise tests drive the sweeps."""
    definition = definitions()[-1]  # importing every service registers every event type, as `cchc serve` does
    runtime = Runtime([definition], settings, clock=clock)
    await runtime.start(migrate=True, schedulers=schedulers)
    app = create_root_app(list(runtime.contexts.values()), _no_lifespan)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://cchc.test", headers=await admin_headers(runtime)
    )
    try:
        yield Notifications(runtime, client)
    finally:
        await client.aclose()
        await runtime.stop()


class SmtpSink:
    """A real SMTP server on loopback (aiosmtpd) keeping what it received; ``refuse`` makes it
    answer RCPT with that reply instead (``"550 5.1.1 mailbox unavailable"``)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: str | None = None
        self.received = asyncio.Event()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        self._loop.call_soon_threadsafe(self.received.set)
        return "250 Message accepted for delivery"

    @contextmanager
    def serving(self) -> Iterator[int]:
        self._loop = asyncio.get_running_loop()
        port = free_port()
        controller = Controller(self, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            yield port
        finally:
            controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclasses.dataclass
class Received:
    at: datetime
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An HTTP server for a test: records each request and answers from a script of
    ``(status, headers, body)``, the last one repeating."""

    def __init__(self, *script: tuple[int, dict[str, str], bytes]) -> None:
        self.script = list(script) or [(200, {}, b"ok")]
        self.requests: list[Received] = []
        self.arrived = asyncio.Event()
        self.delay = 0.0

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        self.requests.append(Received(datetime.now().astimezone(), dict(request.headers), body))
        self.arrived.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        status, headers, content = self.script[min(len(self.requests) - 1, len(self.script) - 1)]
        return Response(content, status_code=status, headers=headers)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.requests) < count:
                self.arrived.clear()
                await self.arrived.wait()


async def eventually(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy."""
    async with asyncio.timeout(timeout):
        while True:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return result
            await asyncio.sleep(interval)


def lateness(ma_ho_so: str, unit: str, due_at: str, **extra: Any) -> dict[str, Any]:
    """The data of a ``dossier.due_soon`` / ``dossier.overdue`` as the dossiers service publishes it."""
    return {
        "ma_ho_so": ma_ho_so,
        "unit": unit,
        "procedure": {"code": "1.001", "name": "Đăng ký khai sinh", "field_code": None, "field_name": None},
        "channel": 1,
        "applicant": {"name": "Nguyễn Văn A", "address": None, "phone": "0900000000", "email": None},
        "received_at": "2025-03-03T08:00:00+07:00",
        "due_at": due_at,
        "rule_set": "nd61_2018",
        **extra,
    }
