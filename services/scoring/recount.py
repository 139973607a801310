"""The recount: the read model computed again from the source of truth, the dossiers and plans
services' public list APIs (paged), to swap in (``cchc scoring rebuild``) or to compare with the
live counters (``cchc scoring verify``).

The dossiers list gives each dossier's current state; :func:`state_from_dossier` reads it as the
events would have left it (an open dossier the dossiers service sees as ``open_overdue`` is one
whose ``dossier.overdue`` was published). Task counters come from ``task.*`` events only: the
plans API has no list of reported occurrences yet, so the recount keeps the live task counters
and compares dossier counters only.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import orjson
from sqlalchemy import case, delete, func, select
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from services.scoring import ledger, rules
from services.scoring.models import COUNTERS_TABLE, PROCEDURE_MONTHS, UNIT_MONTHS, directory
from services.scoring.periods import month_period
from shared.db import insert_rows, upsert
from shared.units import units_changed
from shared.uow import UnitOfWork

PAGE = 500  # the most the list APIs give (shared/paging.py)
COUNTER_ROWS = 20_000  # counter rows per statement
AHEAD = 2  # pages read ahead of the one being handled
ATTEMPTS = 20  # of one page, while the service keeps asking us to wait
MAX_WAIT = 60.0  # seconds, whatever Retry-After says
C = COUNTERS_TABLE.c


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def state_from_dossier(item: dict[str, Any]) -> dict[str, Any]:
    """A ``dossier_states`` row from one item of ``GET /dossiers/v1/dossiers``."""
    finished = _instant(item.get("finished_at"))
    apology = item.get("apology") or None
    due = _instant(item.get("due_at"))
    if finished is not None and apology and apology.get("old_due_at"):
        due = _instant(apology["old_due_at"])  # a finished dossier is judged against the due time before the apology
    channel = item["channel"]
    return {
        "ma_ho_so": item["ma_ho_so"],
        "unit": item["unit"],
        "procedure": (item.get("procedure") or {}).get("code") or "",
        "channel": channel if channel in (1, 2, 3) else 1,
        "received_at": _instant(item.get("received_at")),
        "due_at": due,
        "due_set_at": None,
        "finished_at": finished,
        "resolved": finished is not None,
        "supplements": int(item.get("supplement_count") or 0),
        "supplements_seen": 0,
        "overdue_due": due if finished is None and item.get("timeliness") == "open_overdue" else None,
        "has_fees": bool(item.get("fees")),
        "paid_online": item.get("paid_online") in (1, 2),
        "digitised": item.get("digitised") == 1,
        "reused": any(
            d.get("DuocTaiSuDung") == 1 or d.get("DuocLayTuKhoDMQG") == 1 for d in item.get("documents") or ()
        ),
        "apologised": apology is not None,
    }


def tally(items: list[dict[str, Any]], counters: Counter[tuple[rules.RowKey, str]]) -> list[dict[str, Any]]:
    """A page's dossier states, their points added to ``counters`` (each point counts 1)."""
    states = [state_from_dossier(item) for item in items]
    for row in states:
        for point in rules.points(ledger.state_of(row)):
            counters[point] += 1
    return states


class Throttled(Exception):
    """The service asked us to wait (429 with ``Retry-After``, or 503 while it is busy)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"asked to wait {seconds} s")
        self.seconds = seconds


def _seconds(retry_after: str | None) -> float:
    """``Retry-After`` in seconds (an HTTP date, or nothing, counts as one second)."""
    try:
        return max(float(retry_after or 1), 0.0)
    except ValueError:
        return 1.0


def _asked_wait(state: RetryCallState) -> float:
    failure = state.outcome.exception() if state.outcome else None
    return min(failure.seconds, MAX_WAIT) if isinstance(failure, Throttled) else 1.0


async def _answer(client: httpx.AsyncClient, url: httpx.URL | str, params: dict[str, Any] | None) -> httpx.Response:
    """The answer to one page's request, its headers read and its body not yet (the caller reads
    and closes it). A 429 or 503 waits as the service says (a recount of millions of dossiers is
    thousands of requests, more than one key's burst) and asks again; another error raises."""
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(Throttled), wait=_asked_wait, stop=stop_after_attempt(ATTEMPTS), reraise=True
    ):
        with attempt:
            response = await client.send(client.build_request("GET", url, params=params), stream=True)
            if response.is_error:
                await response.aread()
                await response.aclose()
                if response.status_code in (429, 503):
                    raise Throttled(_seconds(response.headers.get("retry-after")))
                response.raise_for_status()
    return response


async def pages(client: httpx.AsyncClient, path: str) -> AsyncIterator[list[dict[str, Any]]]:
    """Every item of a paged list API (``{"items", "next_cursor"}``), a page at a time.

    A reader task runs ahead of the caller (at most ``AHEAD`` pages wait), and asks for the next
    page as early as it can: when the answer names it in a ``Link: <…>; rel="next"`` header (the
    dossiers list does), as soon as the headers arrive — the service then makes the next page
    while this one's body is read and decoded; otherwise once the body's ``next_cursor`` is read."""
    ready: asyncio.Queue[list[dict[str, Any]] | BaseException | None] = asyncio.Queue(AHEAD)

    async def read() -> None:
        asking: asyncio.Future[httpx.Response] | None = asyncio.ensure_future(_answer(client, path, {"limit": PAGE}))
        try:
            while asking is not None:
                response = await asking
                asking = None
                try:
                    following = response.links.get("next", {}).get("url")
                    if following:
                        asking = asyncio.ensure_future(_answer(client, response.url.join(following), None))
                    body = orjson.loads(await response.aread())
                finally:
                    await response.aclose()
                if asking is None and body.get("next_cursor"):
                    asking = asyncio.ensure_future(
                        _answer(client, path, {"limit": PAGE, "cursor": body["next_cursor"]})
                    )
                await ready.put(body["items"])
        except Exception as failure:  # handed to the caller, whose loop raises it
            await ready.put(failure)
        else:
            await ready.put(None)
        finally:
            if asking is not None:
                asking.cancel()

    reader = asyncio.ensure_future(read())
    try:
        while (page := await ready.get()) is not None:
            if isinstance(page, BaseException):
                raise page
            yield page
    finally:
        reader.cancel()


async def plan_units(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return [unit async for page in pages(client, "/plans/v1/units") for unit in page]


@dataclass
class Recount:
    dossiers: int
    counters: Counter[tuple[rules.RowKey, str]]


async def recount(
    client: httpx.AsyncClient, keep: Callable[[list[dict[str, Any]]], Awaitable[None]] | None = None
) -> Recount:
    """Every dossier's contribution, summed; ``keep`` is handed each page's dossier states (the
    rebuild writes them as they come, so they are never all in memory).

    Three things overlap, so the dossiers service, this process and the database work at once:
    the next page is being made and read (:func:`pages`), this page's states and points are made
    here, and the previous page's states are being kept (one ``keep`` at a time, in page order)."""
    count = 0
    counters: Counter[tuple[rules.RowKey, str]] = Counter()
    keeping: asyncio.Future[None] | None = None
    try:
        async for page in pages(client, "/dossiers/v1/dossiers"):
            states = tally(page, counters)
            count += len(states)
            if keep is not None:
                if keeping is not None:
                    await keeping
                keeping = asyncio.ensure_future(keep(states))
        if keeping is not None:
            await keeping
    finally:
        if keeping is not None and not keeping.done():
            keeping.cancel()
    return Recount(count, counters)


async def live_counters(uow: UnitOfWork) -> Counter[tuple[rules.RowKey, str]]:
    found: Counter[tuple[rules.RowKey, str]] = Counter()
    rows = await uow.session.execute(select(COUNTERS_TABLE))
    for row in rows.mappings():
        key = (row["unit"], row["month"], row["procedure"], row["channel"])
        for counter in rules.DOSSIER_COUNTERS:
            if row[counter]:
                found[(key, counter)] = row[counter]
    return found


@dataclass(frozen=True)
class Difference:
    unit: str
    period: str
    code: str
    live: int
    recount: int


def differences(
    live: Counter[tuple[rules.RowKey, str]], counted: Counter[tuple[rules.RowKey, str]]
) -> list[Difference]:
    """Per (unit, month, counter), summed over procedures and channels: every place the two disagree."""

    def by_month(points: Counter[tuple[rules.RowKey, str]]) -> Counter[tuple[str, int, str]]:
        summed: Counter[tuple[str, int, str]] = Counter()
        for ((unit, month, _, _), counter), amount in points.items():
            summed[(unit, month, counter)] += amount
        return summed

    a, b = by_month(live), by_month(counted)
    return [
        Difference(unit, month_period(month).text, counter, a[(unit, month, counter)], b[(unit, month, counter)])
        for unit, month, counter in sorted(set(a) | set(b))
        if a[(unit, month, counter)] != b[(unit, month, counter)]
    ]


async def clear(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Empty the dossier states, counters and roll-ups for a rebuild; returns the task counter
    rows (the recount does not count tasks: they are put back)."""
    session = uow.session
    task_rows = [
        dict(row) for row in (await session.execute(select(COUNTERS_TABLE).where(C.task_known != 0))).mappings()
    ]
    await session.execute(delete(ledger.DOSSIERS))
    for table in (COUNTERS_TABLE, UNIT_MONTHS, PROCEDURE_MONTHS):
        await session.execute(delete(table))
    return task_rows


async def write_states(uow: UnitOfWork, states: list[dict[str, Any]]) -> None:
    """A page's dossier states into the emptied table (``COPY`` on PostgreSQL). A keyset-paged
    list names each dossier once; were one repeated, the rebuild would stop on the key."""
    await insert_rows(uow.session, ledger.DOSSIERS, states)


async def write_counters(uow: UnitOfWork, counted: Recount, task_rows: list[dict[str, Any]]) -> None:
    """The recounted dossier counters and the kept task counters, with their roll-ups (which
    marks every month for the publisher)."""
    rows: dict[rules.RowKey, dict[str, int]] = {}
    for (key, counter), amount in counted.counters.items():
        rows.setdefault(key, {})[counter] = amount
    for task in task_rows:
        key = (task["unit"], task["month"], task["procedure"], task["channel"])
        rows.setdefault(key, {}).update({c: task[c] for c in rules.TASK_COUNTERS})
    items = list(rows.items())
    for start in range(0, len(items), COUNTER_ROWS):
        await ledger.add_to_counters(uow.session, dict(items[start : start + COUNTER_ROWS]))


async def take_units(uow: UnitOfWork, units: list[dict[str, Any]]) -> None:
    """The plans' units into the units directory (a newer version already there stays)."""
    session = uow.session
    uow.after_commit(units_changed)
    for unit in units:
        values: dict[str, Any] = {
            k: unit.get(k) for k in ("code", "name", "level", "parent_code", "valid_from", "valid_to")
        }
        values.update(aliases=unit.get("aliases") or [], version=unit.get("version") or 1, updated_at=uow.clock.now())
        for k in ("valid_from", "valid_to"):
            values[k] = datetime.fromisoformat(values[k]).date() if values[k] else None
        statement = upsert(session, directory.units).values(**values)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["code"],
                set_={k: statement.excluded[k] for k in values if k != "code"},
                where=directory.units.c.version <= statement.excluded.version,
            )
        )


async def rollup_differences(uow: UnitOfWork) -> list[Difference]:
    """Where ``unit_months`` (what queries read) is not the sum of ``counters`` (code ``<counter> (unit_months)``)."""
    columns = (*rules.COUNTERS, "received_online")
    online = func.sum(case((C.channel == rules.ONLINE_CHANNEL, C.received), else_=0)).label("received_online")
    summed = select(C.unit, C.month, *[func.sum(C[c]).label(c) for c in rules.COUNTERS], online).group_by(
        C.unit, C.month
    )
    detail = {(r["unit"], r["month"]): r for r in (await uow.session.execute(summed)).mappings()}
    rolled = {(r["unit"], r["month"]): r for r in (await uow.session.execute(select(UNIT_MONTHS))).mappings()}
    found = []
    a: Mapping[Any, Any]  # a row of each side, or nothing
    b: Mapping[Any, Any]
    for unit, month in sorted(set(detail) | set(rolled)):
        a, b = rolled.get((unit, month), {}), detail.get((unit, month), {})
        for c in columns:
            if int(a.get(c) or 0) != int(b.get(c) or 0):
                found.append(
                    Difference(
                        unit, month_period(month).text, f"{c} (unit_months)", int(a.get(c) or 0), int(b.get(c) or 0)
                    )
                )
    return found


async def verify(uow: UnitOfWork, client: httpx.AsyncClient) -> list[Difference]:
    """Live counters against the recount, then the roll-up against the live counters."""
    counted = await recount(client)
    return differences(await live_counters(uow), counted.counters) + await rollup_differences(uow)


async def rebuild(uow: UnitOfWork, client: httpx.AsyncClient, plans: httpx.AsyncClient | None = None) -> int:
    """Recount and swap in, in the caller's transaction (it commits: readers see the old model or
    the new one); the dossier states are written page by page as the list is read. ``plans`` is
    where the plans API answers (default: ``client``). Returns how many dossiers were counted."""
    units = await plan_units(plans or client)
    task_rows = await clear(uow)
    counted = await recount(client, keep=lambda states: write_states(uow, states))
    await write_counters(uow, counted, task_rows)
    await take_units(uow, units)
    uow.audit("read_model.rebuilt", "read_model", "scoring", {"dossiers": counted.dossiers})
    return counted.dossiers
