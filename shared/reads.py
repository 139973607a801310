"""One ``SELECT`` at the driver's speed: :meth:`shared.db.Database.read`.

A read of one statement needs no session and no transaction. Through SQLAlchemy it cost a pool
checkout (with its ping, itself ``BEGIN``, ``;``, ``ROLLBACK`` on asyncpg), ``BEGIN``, the query
and ``ROLLBACK``: six round trips, and ~250 µs of Python besides the query's ~30 µs
(docs/performance.md, "Reads"). Here a statement is compiled once per process, then run as the
driver's own prepared statement on one of a few connections this module holds, outside any
transaction (autocommit), with SQLAlchemy's bind and result processing of its columns, so the
values are those a session would give:

* PostgreSQL: asyncpg connections taken once from the database's reader engine (read-only
  sessions: ``default_transaction_read_only``); a connection the server closed is replaced and
  the read tried once more (a read has no effect to repeat).
* SQLite: a point read (a statement kept compiled) on the event loop's own thread, through a
  ``query_only`` connection that never waits (``busy_timeout`` 0): in WAL mode a reader does not
  wait for the writer, and a point read takes microseconds, far less than handing it to a thread
  and back (docs/performance.md, "Reads"). In the rare moment the file is busy for readers too
  (the WAL being reset or recovered, a writer holding it exclusively), the read goes to a small
  pool of threads, each with its own connection that waits for the file as a session would. A
  statement made for one call (``once``: a page of a list) reads on those threads too.

A statement the cache cannot hold as one text (an ``IN`` whose list expands at execution, a
literal rendered at execution) goes through the reader engine instead.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from asyncpg import Connection as AsyncpgConnection
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Select

Row = dict[str, Any]
Held = tuple[AsyncConnection, AsyncpgConnection]  # the engine's connection, kept open, and its driver's
Processor = Callable[[Any], Any]
_CACHE_LIMIT = 512  # statements kept compiled; callers keep theirs at module level, so this is plenty


@dataclass(frozen=True)
class Prepared:
    """A statement compiled for one dialect: its text, how to bind its parameters and read its rows."""

    sql: str
    names: tuple[str, ...]  # the parameter of each placeholder, in order
    binds: Mapping[str, Processor]  # the parameters whose type converts them
    defaults: Mapping[str, Any]  # values the statement carries itself (a LIMIT, a literal compared)
    keys: tuple[str, ...]  # column of each result position
    results: tuple[tuple[int, Processor], ...]  # positions whose type converts the value read

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = {**self.defaults, **params}
        arguments = []
        for name in self.names:
            if name not in values:
                raise ValueError(f"no value for the parameter {name!r} of {self.sql!r}")
            process = self.binds.get(name)
            arguments.append(values[name] if process is None else process(values[name]))
        return arguments

    def rows(self, records: Sequence[Sequence[Any]]) -> list[Row]:
        out = []
        for record in records:
            row = dict(zip(self.keys, record, strict=True))
            for position, process in self.results:
                key = self.keys[position]
                row[key] = process(row[key])
            out.append(row)
        return out


def prepare(statement: Select[Any], dialect: Dialect) -> Prepared | None:
    """``statement`` compiled for ``dialect``, or None when its text depends on the values given."""
    compiled = statement.compile(dialect=dialect)
    if compiled.post_compile_params or compiled.literal_execute_params or compiled.positiontup is None:
        return None
    binds = {}
    for name, bind in compiled.binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binds[name] = process
    defaults = {name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required}
    columns = list(statement.selected_columns)
    results = []
    for position, column in enumerate(columns):
        process = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if process is not None:
            results.append((position, process))
    return Prepared(
        sql=compiled.string,
        names=tuple(compiled.positiontup),
        binds=binds,
        defaults=defaults,
        keys=tuple(statement.selected_columns.keys()),
        results=tuple(results),
    )


class Reads(ABC):
    """Statements run on the connections of one backend; see the module docstring."""

    def __init__(self, reader: AsyncEngine) -> None:
        self.reader = reader
        self._prepared: dict[Select[Any], Prepared | None] = {}

    async def read(self, statement: Select[Any], params: Mapping[str, Any], *, once: bool = False) -> list[Row]:
        if once:  # built for this call: compiled, not kept
            prepared = prepare(statement, self.reader.dialect)
        else:
            try:
                prepared = self._prepared[statement]
            except KeyError:
                if len(self._prepared) >= _CACHE_LIMIT:
                    self._prepared.clear()
                prepared = self._prepared[statement] = prepare(statement, self.reader.dialect)
        if prepared is None:
            async with self.reader.connect() as connection:
                return [dict(row) for row in (await connection.execute(statement, dict(params))).mappings()]
        return prepared.rows(await self.fetch(prepared.sql, prepared.arguments(params), point=not once))

    @abstractmethod
    async def fetch(self, sql: str, arguments: list[Any], *, point: bool) -> Sequence[Sequence[Any]]:
        """The rows of ``sql`` (the backend's own placeholders) with ``arguments``; ``point``: a
        statement kept compiled, a lookup by key (a statement made for one call reads many rows)."""

    @abstractmethod
    async def close(self) -> None:
        """Let go of the connections."""


class PostgresReads(Reads):
    """Up to ``size`` asyncpg connections of the reader engine, held for the life of the process."""

    def __init__(self, reader: AsyncEngine, size: int) -> None:
        super().__init__(reader)
        self._size = size
        self._idle: list[Held] = []  # the most recently used last: it is taken first
        self._waiting: deque[asyncio.Future[Held | None]] = deque()  # reads waiting for a connection, in order
        self._held: list[AsyncConnection] = []
        self._opening = 0  # connections being opened: they count against ``size`` already

    async def fetch(self, sql: str, arguments: list[Any], *, point: bool) -> Sequence[Sequence[Any]]:
        for attempt in (1, 2):
            held, driver = await self._acquire()
            try:
                records = await driver.fetch(sql, *arguments)
            except Exception:
                if not driver.is_closed():  # the statement failed, the connection is sound
                    self._release((held, driver))
                    raise
                await self._discard(held)  # the server went away (a restart, a terminated backend)
                if attempt == 2:
                    raise
                continue
            except BaseException:  # cancelled mid-statement: the connection's state is unknown
                driver.terminate()
                await self._discard(held)
                raise
            self._release((held, driver))
            return records
        raise AssertionError("unreachable")

    async def _acquire(self) -> Held:
        while True:
            if self._idle and not self._waiting:
                held, driver = self._idle.pop()
            elif len(self._held) + self._opening < self._size:
                self._opening += 1  # before the first await: a burst of reads must not all open one
                try:
                    return await self._open()
                except BaseException:
                    self._release(None)  # no connection after all: the read waiting longest tries
                    raise
                finally:
                    self._opening -= 1
            else:
                waiter = asyncio.get_running_loop().create_future()
                self._waiting.append(waiter)
                try:
                    handed = await waiter
                except asyncio.CancelledError:
                    if waiter.done() and not waiter.cancelled() and (left := waiter.result()):
                        self._release(left)  # handed a connection as it was cancelled
                    raise
                if handed is None:  # a connection was discarded: there is room to open one
                    continue
                held, driver = handed
            if not driver.is_closed():
                return held, driver
            await self._discard(held)  # the server closed it while it was idle (a restart)

    def _release(self, connection: Held | None) -> None:
        """Hand the connection to the read waiting longest, else keep it idle. A handed-over
        connection is never taken by a read arriving meanwhile (``asyncio.Queue`` lets one barge
        in, and the waiter it overtook queues again at the back: the tail of the latency)."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        if connection is not None:
            self._idle.append(connection)

    async def _open(self) -> Held:
        held = await self.reader.connect()
        self._held.append(held)
        try:
            driver = (await held.get_raw_connection()).driver_connection
        except BaseException:
            await self._discard(held)
            raise
        assert isinstance(driver, AsyncpgConnection)
        return held, driver

    async def _discard(self, held: AsyncConnection) -> None:
        self._held.remove(held)
        self._release(None)  # the read waiting longest may open one in its place
        await held.invalidate()
        await held.close()

    async def close(self) -> None:
        while self._held:
            await self._held.pop().close()


class SqliteReads(Reads):
    """Reads on the loop's thread, or, while the file is busy, on one of ``size`` threads."""

    def __init__(self, reader: AsyncEngine, path: str, size: int) -> None:
        super().__init__(reader)
        self._path = path
        self._inline: sqlite3.Connection | None = None
        self._threads = ThreadPoolExecutor(size, thread_name_prefix="sqlite-read")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []

    async def fetch(self, sql: str, arguments: list[Any], *, point: bool) -> Sequence[Sequence[Any]]:
        if point:  # on the loop's thread, unless the file is busy
            if self._inline is None:
                self._inline = open_reader(self._path, busy_timeout_ms=0)
            try:
                return self._inline.execute(sql, arguments).fetchall()
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                    raise
        return await asyncio.get_running_loop().run_in_executor(self._threads, self._fetch, sql, arguments)

    def _fetch(self, sql: str, arguments: list[Any]) -> list[Any]:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = open_reader(self._path)
            self._connections.append(connection)
        return connection.execute(sql, arguments).fetchall()

    async def close(self) -> None:
        self._threads.shutdown(wait=True)
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        for connection in self._connections:
            connection.close()
        self._connections.clear()


def open_reader(path: str, busy_timeout_ms: int = 30_000) -> sqlite3.Connection:
    """A connection that reads the SQLite file and can never write it (nor take its write lock)."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    sqlite_reader_pragmas(connection, busy_timeout_ms)
    return connection


def sqlite_reader_pragmas(connection: Any, busy_timeout_ms: int = 30_000) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.close()
