"""A throwaway PostgreSQL server for the test session.

The session fixture ``postgres_server`` runs ``initdb`` into a temporary
directory and starts ``postgres`` on a free 127.0.0.1 port with durability
switched off.  As root the server runs as the ``postgres`` (else ``nobody``)
user.  Missing binaries or a failed start skip the tests, or fail them when
``CI`` is set or ``CCHC_REQUIRE_POSTGRES=1``.  ``CCHC_PG_BINDIR`` overrides the
binary lookup.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import asyncpg
import pytest

SUPERUSER = "postgres"
HOST = "127.0.0.1"
_COMMAND_TIMEOUT_S = 60
_LOG_TAIL_LINES = 40


class PostgresUnavailable(RuntimeError):
    """The server binaries are missing or the server could not be started."""


@dataclass(frozen=True)
class PostgresServer:
    """Connection facts of the running server plus database helpers."""

    host: str
    port: int
    user: str

    def url(self, database: str) -> str:
        """SQLAlchemy asyncpg URL for ``database``."""
        return f"postgresql+asyncpg://{self.user}@{self.host}:{self.port}/{database}"

    def dsn(self, database: str) -> str:
        """Plain libpq/asyncpg DSN for ``database``."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    async def create_database(self, name: str) -> str:
        """Create database ``name`` and return its SQLAlchemy URL."""
        conn = await asyncpg.connect(self.dsn("postgres"))
        try:
            quoted = '"' + name.replace('"', '""') + '"'
            await conn.execute(f"CREATE DATABASE {quoted}")
        finally:
            await conn.close()
        return self.url(name)

    def create_database_sync(self, name: str) -> str:
        """Blocking ``create_database``; safe to call whether or not a loop is running."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self.create_database(name)).result()


def _find_bindir() -> Path:
    """Locate the directory holding ``initdb``, ``pg_ctl`` and ``postgres``."""
    candidates: list[Path] = []
    override = os.environ.get("CCHC_PG_BINDIR")
    if override:
        candidates.append(Path(override))
    else:
        if shutil.which("pg_config"):
            proc = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
            if proc.returncode == 0:
                candidates.append(Path(proc.stdout.strip()))
        versioned = glob.glob("/usr/lib/postgresql/*/bin")
        candidates += [Path(d) for d in sorted(versioned, key=_version_key, reverse=True)]
        initdb = shutil.which("initdb")
        if initdb:
            candidates.append(Path(initdb).resolve().parent)
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    looked = ", ".join(map(str, candidates)) or "pg_config, /usr/lib/postgresql/*/bin, PATH"
    raise PostgresUnavailable(f"PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in: {looked}")


def _version_key(path: str) -> tuple[int, ...]:
    """Sort key for ``/usr/lib/postgresql/<version>/bin``."""
    return tuple(int(part) for part in re.findall(r"\d+", Path(path).parent.name))


def _server_user() -> str | None:
    """Unprivileged account to run the server as when we are root, else None."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise PostgresUnavailable("running as root but neither a 'postgres' nor a 'nobody' user exists")


def _as_user(cmd: list[str], user: str | None) -> list[str]:
    """Wrap ``cmd`` so it runs as ``user`` (no-op when ``user`` is None)."""
    if user is None:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", user, "--", *cmd]
    return ["su", "-s", "/bin/sh", user, "-c", shlex.join(cmd)]


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _tail(path: Path) -> str:
    """Last lines of a log file, or '' if it does not exist."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-_LOG_TAIL_LINES:])


class _ServerProcess:
    """Owns the temporary cluster directory and the running postmaster."""

    def __init__(self, bindir: Path, user: str | None) -> None:
        self.bindir = bindir
        self.user = user
        self.root = Path(tempfile.mkdtemp(prefix="cchc-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()

    def _run(self, *args: str) -> None:
        """Run a server binary as the server user; raise with its output on failure."""
        cmd = _as_user([str(self.bindir / args[0]), *args[1:]], self.user)
        try:
            proc = subprocess.run(cmd, cwd=self.root, capture_output=True, text=True, timeout=_COMMAND_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresUnavailable(f"{shlex.join(cmd)}: {exc}\n{_tail(self.log)}") from exc
        if proc.returncode != 0:
            output = (proc.stdout + proc.stderr).strip()
            raise PostgresUnavailable(f"{shlex.join(cmd)} exited {proc.returncode}:\n{output}\n{_tail(self.log)}")

    def start(self) -> None:
        """initdb, configure and start the server; return once it accepts connections."""
        if self.user is not None:
            shutil.chown(self.root, user=self.user)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        (self.data / "pg_hba.conf").write_text(f"local all all trust\nhost all all {HOST}/32 trust\n")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '{HOST}'\n"
                f"port = {self.port}\n"
                f"unix_socket_directories = '{self.root}'\n"
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
                "max_connections = 200\n"
            )
        self._run(
            "pg_ctl",
            "start",
            "-w",
            "-t",
            str(_COMMAND_TIMEOUT_S),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
        )

    def stop(self) -> None:
        """Stop the server (if one is running) and delete the temporary directory. Immediate mode:
        the files are deleted next, so the shutdown checkpoint a fast stop writes (up to a minute
        on a loaded machine, at the end of every xdist worker) would be wasted."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(self.data))
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _start_server() -> _ServerProcess:
    """Find the binaries and start a server, cleaning up if that fails."""
    server = _ServerProcess(_find_bindir(), _server_user())
    try:
        server.start()
    except PostgresUnavailable:
        server.stop()
        raise
    return server


def _skip_or_fail(problem: str) -> NoReturn:
    """Fail under CI / ``CCHC_REQUIRE_POSTGRES=1``, otherwise skip."""
    if os.environ.get("CI") or os.environ.get("CCHC_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL server unavailable: {problem}", pytrace=False)
    first_line = problem.splitlines()[0]
    pytest.skip(f"PostgreSQL server unavailable ({first_line}); set CCHC_REQUIRE_POSTGRES=1 to fail with the full log")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start a real PostgreSQL server for the whole test session."""
    try:
        server = _start_server()
    except PostgresUnavailable as exc:
        problem = str(exc)
    else:
        problem = ""
    if problem:
        _skip_or_fail(problem)
    try:
        yield PostgresServer(host=HOST, port=server.port, user=SUPERUSER)
    finally:
        server.stop()
