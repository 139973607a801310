"""One service's database: engine and sessions from a URL alone (SQLite or PostgreSQL)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar
from typing import cast as typing_cast

import orjson
from asyncpg import exceptions as driver_errors
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    DateTime,
    Integer,
    Select,
    Table,
    Text,
    bindparam,
    cast,
    event,
    func,
    insert,
    literal_column,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import CursorResult, Dialect, Result, make_url
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql.elements import True_
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import TypeDecorator, TypeEngine

from shared.pacing import paced
from shared.problems import NotFound
from shared.reads import PostgresReads, Reads, SqliteReads, sqlite_reader_pragmas

M = TypeVar("M")

# An auto-incrementing 64-bit key that SQLite also treats as its rowid.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetimes are not stored: give an aware instant")
    return value


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC on every backend (SQLite keeps no offsets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        value = _aware(value)
        if value is None or dialect.name != "sqlite":
            return value  # a timestamptz: the driver sends the instant, whatever its offset
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def json_dumps(value: Any) -> str:
    """JSON columns through orjson: several times faster than ``json`` on bulk writes."""
    return orjson.dumps(value).decode()


class Database:
    """Engines and session factories of one service, built from its URL.

    Two engines: ``engine`` for units of work, which may write (on SQLite each of its transactions
    takes the write lock when it begins), and ``reader`` for reads, whose connections run outside
    transactions (autocommit) and cannot write: read-only sessions on PostgreSQL, ``query_only``
    connections on SQLite, where WAL lets them read while a writer holds the lock. :meth:`read`
    runs one statement on the reader's connections without a session (``shared/reads.py``).
    """

    def __init__(self, url: str, *, pool_size: int = 10, read_connections: int = 4, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {
            "echo": echo,
            "json_serializer": json_dumps,
            "json_deserializer": orjson.loads,
        }
        if self.dialect == "sqlite":
            if not parsed.database or parsed.database == ":memory:":
                raise ValueError("SQLite databases are files here: readers and the writer open the file each")
            _create_private(Path(parsed.database))
            kwargs["connect_args"] = {"timeout": 30, "factory": RollbackOnClose}
            self.engine: AsyncEngine = create_async_engine(url, **kwargs)
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin_immediate)
            self.reader = create_async_engine(url, isolation_level="AUTOCOMMIT", pool_size=read_connections, **kwargs)
            event.listen(self.reader.sync_engine, "connect", _sqlite_reader_connect)
            self._reads: Reads = SqliteReads(self.reader, parsed.database, read_connections)
        else:
            pools = {"pool_size": pool_size, "max_overflow": pool_size}
            # the writer pings at checkout (three round trips on asyncpg): a connection the server
            # closed a moment ago is not yet seen closed, and a write must not fail on it
            # (tests/integration/shared/test_reads.py); reads retry instead (PostgresReads)
            self.engine = create_async_engine(url, pool_pre_ping=True, **pools, **kwargs)
            read_only = {"server_settings": {"default_transaction_read_only": "on"}}
            self.reader = create_async_engine(
                url, isolation_level="AUTOCOMMIT", connect_args=read_only, **pools, **kwargs
            )
            event.listen(self.reader.sync_engine, "checkout", _closed_by_server)
            self._reads = PostgresReads(self.reader, read_connections)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = async_sessionmaker(self.reader, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    async def read(
        self, statement: Select[Any], params: Mapping[str, Any] | None = None, *, once: bool = False
    ) -> list[dict[str, Any]]:
        """The rows of one ``SELECT`` (as dicts, values as a session reads them), outside any
        transaction: it sees what was committed when it runs. Keep ``statement`` at module level
        with ``bindparam`` placeholders: it is compiled once and then run as a prepared statement.
        A point read (an index lookup) runs on SQLite on the event loop's thread. ``once``: a
        statement built for this call (its values in it), compiled and not kept — worth it for a
        read of many rows, whose rows this reads several times cheaper than a session; on SQLite
        it runs on a reader thread, the loop going on meanwhile."""
        return await self._reads.read(statement, params or {}, once=once)

    async def ping(self) -> bool:
        """True when a round trip to the database succeeds."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("select 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self._reads.close()
        await self.reader.dispose()
        await self.engine.dispose()


class RollbackOnClose(sqlite3.Connection):
    """A SQLite connection that ends its transaction before it closes.

    When the task using a connection is cancelled mid-statement (``Runtime.stop``, an abandoned
    request), SQLAlchemy invalidates the connection and closes it without a rollback. SQLite
    does not close a connection one of whose statements still holds rows (the cancelled
    ``SELECT`` or ``… RETURNING``, which the cancelled task's traceback keeps alive): it keeps
    it open, with its transaction and the write lock, until that statement is freed, and every
    other writer waits ``busy_timeout`` (30 s) meanwhile. A rollback ends the transaction
    whatever statements are pending (tests/integration/shared/test_stopping.py)."""

    def close(self) -> None:
        try:
            if self.in_transaction:
                self.rollback()
        finally:
            super().close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver's own lazy BEGIN is off: see below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_reader_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    sqlite_reader_pragmas(dbapi_connection)


def _closed_by_server(_dbapi_connection: Any, _record: Any, proxy: Any) -> None:
    """A pooled reader connection the server has closed (a restart) is replaced at checkout. The
    reader pool has no ping: a ping on asyncpg is three round trips, more than the read."""
    if proxy.driver_connection.is_closed():
        raise DisconnectionError("closed by the server")


def _sqlite_begin_immediate(connection: Any) -> None:
    """Every transaction of the writing engine takes the write lock when it begins.

    The driver would begin a transaction only at the first write, so what a transaction read
    before it could be changed by another one in between, and writing it back lost that change
    (PostgreSQL locks such rows ``FOR UPDATE``). Embedded mode runs one process with short
    transactions, so serialising the writing ones costs little; ``busy_timeout`` makes the others
    wait. Reads do not take part: they go through the reader engine (see :class:`Database`).
    """
    connection.exec_driver_sql("BEGIN IMMEDIATE")


# Constraint names every backend (and Alembic's batch mode on SQLite) can rely on.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def on_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def get_or_404(session: AsyncSession, model: type[M], key: Any, message: str, **problem: Any) -> M:
    """The row of ``model`` with primary key ``key``, or :class:`NotFound` with ``message``."""
    row = await session.get(model, key)
    if row is None:
        raise NotFound(message, **problem)
    return row


async def rows_by_key(
    session: AsyncSession,
    table: Table,
    column: ColumnElement[Any],
    keys: Collection[str],
    *where: ColumnElement[bool],
    lock: bool = False,
) -> Result[Any]:
    """The rows of ``table`` whose unique text ``column`` is one of ``keys`` (and meet ``where``),
    locked ``FOR UPDATE`` in key order with ``lock`` on PostgreSQL.

    On PostgreSQL the keys travel as one array, unnested, and each is looked up by a ``LATERAL``
    subquery of its own (``… LIMIT 1``), which the planner can only answer from the column's unique
    index. ``column = ANY($1)`` is one prepared statement too, but its generic plan is made once per
    connection: made while the table was small it is a sequential scan, casting the array for every
    row, and it stays that until an ``ANALYZE``. On a new database that is seconds per lookup at a
    few hundred thousand rows (docs/performance.md, *The plan of a batch lookup*).
    """
    ordered = sorted(set(keys))
    if not on_postgres(session):
        return await session.execute(select(table).where(column.in_(ordered), *where))
    where = tuple(w for w in where if not isinstance(w, True_))  # Scope.where of the whole system
    statement = _by_key(table, column, where, lock) if where else _by_key_cached(table, column, lock)
    return await session.execute(statement, {"by_key": ordered})


def _by_key(table: Table, column: ColumnElement[Any], where: Sequence[ColumnElement[bool]], lock: bool) -> Select[Any]:
    wanted = func.unnest(bindparam("by_key", type_=ARRAY(Text))).table_valued("key").render_derived()
    each = select(table).where(column == wanted.c.key, *where).limit(literal_column("1"))
    one = (each.with_for_update() if lock else each).lateral()
    named = (one.c[c.key].label(c.name) for c in table.columns)  # the table's names, not the subquery's labels
    return select(*named).select_from(wanted).join(one, true())


@lru_cache(maxsize=64)
def _by_key_cached(table: Table, column: ColumnElement[Any], lock: bool) -> Select[Any]:
    """The unconditioned lookup, built once (building it costs more than looking up a few keys)."""
    return _by_key(table, column, (), lock)


def upsert(session: AsyncSession, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An ``INSERT`` of the session's dialect, which offers ``on_conflict_do_nothing/do_update``."""
    return (postgresql if on_postgres(session) else sqlite).insert(table)


async def upsert_rows(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    on_conflict: Callable[[Any], Executable],
    *,
    defaults: Mapping[str, Any] | None = None,
) -> Result[Any]:
    """``INSERT`` many rows with an ``ON CONFLICT`` clause (``on_conflict`` adds it, and any
    ``RETURNING``, to the dialect's insert): one statement, whatever the row count.

    On PostgreSQL the rows travel as one JSON parameter read back into the table's row type
    (``INSERT … SELECT … FROM json_populate_recordset(base, $1)``): one serialisation in orjson
    and one plan execution, where an ``executemany`` processes and executes every row in Python.
    On SQLite it is that ``executemany``. A row takes the columns it lacks from ``defaults``
    (sparse rows of counters stay small); the columns written are the first row's and the
    defaults' (a key naming no column is refused: ``ValueError``). Rows must not repeat a
    conflict key (PostgreSQL refuses to update a row twice in one statement), and instants are
    aware (the JSON keeps their offset).

    The statement is built once per table, set of columns, default names and ``on_conflict`` (the last
    :data:`UPSERT_STATEMENTS` kept): give a function defined once, not a new lambda per call, and a
    consumer's every batch reuses it (building it costs more than a small batch's rows).
    """
    defaults = defaults or {}
    names = _columns(table, rows[0], defaults)
    if not on_postgres(session):
        statement = _upsert_statement("sqlite", table, (), (), on_conflict)
        return await session.execute(statement, [{**defaults, **row} for row in rows])
    statement = _upsert_statement("postgresql", table, names, tuple(defaults), on_conflict)
    return await session.execute(statement, {"upsert_rows": list(rows), "upsert_defaults": dict(defaults)})


@dataclass(frozen=True)
class Upsert:
    """One table's rows for :func:`upsert_all`: the arguments of :func:`upsert_rows`."""

    table: Table
    rows: Sequence[Mapping[str, Any]]
    on_conflict: Callable[[Any], Executable]
    defaults: Mapping[str, Any] = field(default_factory=dict)


async def upsert_all(session: AsyncSession, upserts: Sequence[Upsert]) -> None:
    """Several :func:`upsert_rows` into distinct tables (without ``RETURNING``) in one round trip.

    On PostgreSQL they are one statement: each but the last a data-modifying ``WITH`` part of the
    last. All parts see the database as it was before the statement, so none may depend on what
    another writes (each writes its own table). On SQLite they run one after the other, in order.
    """
    parts = [u for u in upserts if u.rows]
    if len(parts) < 2 or not on_postgres(session):
        for u in parts:
            await upsert_rows(session, u.table, u.rows, u.on_conflict, defaults=u.defaults)
        return
    shapes = tuple((u.table, _columns(u.table, u.rows[0], u.defaults), tuple(u.defaults), u.on_conflict) for u in parts)
    parameters: dict[str, Any] = {}
    for n, u in enumerate(parts):
        parameters[f"upsert_rows_{n}"], parameters[f"upsert_defaults_{n}"] = list(u.rows), dict(u.defaults)
    await session.execute(_combined_statement(shapes), parameters)


UPSERT_STATEMENTS = 256


def _columns(table: Table, first: Mapping[str, Any], defaults: Mapping[str, Any]) -> tuple[str, ...]:
    """The columns an upsert writes (the first row's and the defaults'), in the table's order: the
    same set gives the same statement, however the first row orders its keys or which sparse
    counters it holds (else every batch could compile, and PostgreSQL prepare, a new one)."""
    names = tuple(c.name for c in table.columns if c.name in first or c.name in defaults)
    if len(names) < len(given := first.keys() | defaults.keys()):
        raise ValueError(f"{table.name} has no column {', '.join(sorted(given.difference(names)))}")
    return names


@lru_cache(maxsize=UPSERT_STATEMENTS)
def _combined_statement(
    shapes: tuple[tuple[Table, tuple[str, ...], tuple[str, ...], Callable[[Any], Executable]], ...],
) -> Executable:
    """The statement of :func:`upsert_all`: part ``n`` (table, columns, default names, conflict
    clause) reads the parameters ``upsert_rows_n`` and ``upsert_defaults_n``."""
    *first, last = (
        _upsert_statement("postgresql", table, names, defaults, on_conflict, f"_{n}")
        for n, (table, names, defaults, on_conflict) in enumerate(shapes)
    )
    return last.add_cte(*(part.cte(f"upsert_{n}") for n, part in enumerate(first)))  # type: ignore[attr-defined]


@lru_cache(maxsize=UPSERT_STATEMENTS)
def _upsert_statement(
    dialect: str,
    table: Table,
    names: tuple[str, ...],
    defaults: tuple[str, ...],
    on_conflict: Callable[[Any], Executable],
    suffix: str = "",
) -> Executable:
    """The statement of :func:`upsert_rows`; on PostgreSQL the rows (and defaults) are its JSON
    parameters ``upsert_rows`` (and ``upsert_defaults``), each name followed by ``suffix``."""
    if dialect == "sqlite":
        return on_conflict(sqlite.insert(table))
    null_row: ColumnElement[Any] = literal_column(
        f"NULL::{postgresql.dialect().identifier_preparer.format_table(table)}"
    )
    base: ColumnElement[Any] = null_row
    if defaults:
        base = func.json_populate_record(null_row, cast(bindparam(f"upsert_defaults{suffix}", type_=JSON), JSON))
    rows = cast(bindparam(f"upsert_rows{suffix}", type_=JSON), JSON)
    rowset = func.json_populate_recordset(base, rows).table_valued(*names)
    source = select(*(rowset.c[name] for name in names))
    return on_conflict(postgresql.insert(table).from_select(list(names), source))


def _create_private(path: Path) -> None:
    """Create the SQLite file, and its directory, for their owner alone (they hold citizens'
    personal data); SQLite gives the ``-wal`` and ``-shm`` files the database file's permissions.
    An existing file or directory keeps its own."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def rowcount(result: Result[*tuple[Any, ...]]) -> int:
    """The rows an ``UPDATE`` or ``DELETE`` matched. ``AsyncSession.execute`` is typed to return a
    ``Result``; for these statements it is a ``CursorResult``, which carries the count."""
    return typing_cast("CursorResult[*tuple[Any, ...]]", result).rowcount


def _driver_processor(column_type: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column's bind processing, without SQLAlchemy's wrappers where they add nothing: JSON
    straight through orjson (``None`` is JSON ``null``, as SQLAlchemy writes it), booleans as
    they are (the drivers take a bool) and, on PostgreSQL, instants only checked for a time zone
    (a timestamptz takes any offset)."""
    if isinstance(column_type, JSON) and not column_type.none_as_null:
        return json_dumps
    if isinstance(column_type, UTCDateTime) and dialect.name == "postgresql":
        return _aware
    if isinstance(column_type, Boolean):
        return None  # the driver takes only a bool for a boolean (SQLAlchemy's check would let 0 and 1 by)
    return column_type.dialect_impl(dialect).bind_processor(dialect)


async def insert_rows(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None
) -> None:
    """Insert many rows in the session's transaction: their ``columns`` (by default the first row's keys).

    Values go through the columns' own bind processing, so they are stored exactly as an
    ``INSERT`` through SQLAlchemy would store them, then to the driver without SQLAlchemy's
    per-row parameter handling: on PostgreSQL by a binary ``COPY`` through asyncpg, several times
    cheaper per row than an ``executemany`` of ``INSERT``; on SQLite by the driver's
    ``executemany``. A key conflict raises ``IntegrityError`` either way (and aborts the
    statement: wrap it in a savepoint to go on).
    """
    if not rows:
        return
    names = list(_columns(table, dict.fromkeys(columns or rows[0]), {}))  # the table's order: the INSERT's
    connection = await session.connection()
    processors = [_driver_processor(table.c[name].type, connection.dialect) for name in names]
    records = await _bound_records(rows, names, processors)
    if not on_postgres(session):
        await connection.exec_driver_sql(_sqlite_insert(table, tuple(names)), records)
        return
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None  # None only once a connection is invalidated; this one is in use
    try:
        await driver.copy_records_to_table(table.name, records=records, columns=names, schema_name=table.schema)
    except driver_errors.IntegrityConstraintViolationError as exc:
        raise IntegrityError(f"COPY {table.name}", None, exc) from exc


async def _bound_records(
    rows: Sequence[Mapping[str, Any]], names: list[str], processors: list[Callable[[Any], Any] | None]
) -> list[tuple[Any, ...]]:
    """Each row's values of ``names``, in order, as the driver takes them (the event loop served
    between slices of many rows)."""
    convert = [(i, p) for i, p in enumerate(processors) if p is not None]
    pick = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
    records = []
    async for row in paced(rows):
        values = list(pick(row))
        for i, process in convert:
            values[i] = process(values[i])
        records.append(tuple(values))
    return records


@lru_cache(maxsize=64)
def _sqlite_insert(table: Table, names: tuple[str, ...]) -> str:
    """The ``INSERT`` of ``names`` (in the table's order, as the compiler writes them) into ``table``."""
    return str(insert(table).compile(dialect=sqlite.dialect(), column_keys=list(names)))
