"""Push mode: the simulated province posts its changes as DongBoHoSoMC batches to a receiver."""

from __future__ import annotations

import asyncio
import logging

import httpx

from shared.aio import pause
from shared.clock import Clock
from shared.retrying import Stopped, logged, with_backoff
from simulator.province import Province

log = logging.getLogger(__name__)


class Pusher:
    """Posts ``{"service": "DongBoHoSoMC", "isUpdating": ..., "data": [...]}`` batches of the
    province's changes to ``url``: first sendings with ``isUpdating`` false, resends true.
    Connection errors and 5xx answers are retried with backoff; a batch refused with a 4xx is
    logged and skipped."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        url: str,
        province: Province,
        clock: Clock,
        *,
        token: str | None = None,
        batch_size: int = 500,
        interval: float = 1.0,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
    ) -> None:
        self.client, self.url, self.province, self.clock = client, url, province, clock
        self.batch_size, self.interval = batch_size, interval
        self.retry_initial, self.retry_max = retry_initial, retry_max
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._position = 0
        self._sent: set[str] = set()

    async def push_once(self, stop: asyncio.Event | None = None) -> int:
        """Bring the province up to now and push every change since the last push; returns records pushed."""
        self.province.advance(self.clock.now())
        pushed = 0
        while True:
            codes, position, has_more = self.province.records.page(self._position, self.batch_size)
            resent = [code for code in codes if code in self._sent]
            for updating, batch in ((False, [c for c in codes if c not in self._sent]), (True, resent)):
                if batch and not await self._post(updating, [self.province.record(c) for c in batch], stop):
                    return pushed  # stopped while retrying: this page is pushed again next time
                self._sent.update(batch)
            self._position = position
            pushed += len(codes)
            if not has_more:
                return pushed

    async def run(self, stop: asyncio.Event) -> None:
        """Push every ``interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            await self.push_once(stop)
            await pause(stop, self.interval)

    async def _post(self, updating: bool, records: list[dict[str, object]], stop: asyncio.Event | None) -> bool:
        """Post one batch until it is answered (True), or until ``stop`` is set (False)."""
        body = {"service": "DongBoHoSoMC", "isUpdating": updating, "data": records}
        retrying = with_backoff(
            initial=self.retry_initial,
            maximum=self.retry_max,
            retry_on=(httpx.TransportError, ServerError),
            stop=stop,
            on_failure=logged(log, f"push of {len(records)} records"),
        )
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self.client.post(self.url, json=body, headers=self._headers)
                    if response.status_code >= 500:
                        raise ServerError(response.status_code)
        except Stopped:
            return False
        if response.is_error:
            log.error("receiver refused a batch of %d records: HTTP %d", len(records), response.status_code)
        return True


class ServerError(Exception):
    """The receiver answered 5xx: worth another try."""
