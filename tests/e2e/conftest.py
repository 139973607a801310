"""Start real ``cchc`` processes for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

CCHC = str(Path(sys.executable).parent / "cchc")
CHECKOUT = Path(__file__).parents[2]  # the code under test: this checkout's, whatever the venv was installed from


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"cchc exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


@contextmanager
def cchc_processes(workdir: Path) -> Iterator[Callable[..., str]]:
    """Start ``cchc <args>`` on a free port (data under ``workdir``); returns its base URL once
    ``probe`` answers 200. Every process started is stopped on leaving."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(*args: str, probe: str = "/plans/healthz", env: dict[str, str] | None = None) -> str:
        port = free_port()
        log = workdir / f"cchc-{port}.log"
        process = subprocess.Popen(
            [CCHC, *args, "--host", "127.0.0.1", "--port", str(port)],
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(filter(None, (str(CHECKOUT), os.environ.get("PYTHONPATH")))),
                "CCHC_DATA_DIR": str(workdir / "var"),
                **(env or {}),
            },
            cwd=workdir,
        )
        processes.append(process)
        base = f"http://127.0.0.1:{port}"
        wait_until_up(process, base + probe, log)
        return base

    try:
        yield start
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def cchc_command(workdir: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run ``cchc <args>`` to its end with the settings the started processes have; its stdout."""
    done = subprocess.run(
        [CCHC, *args],
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, (str(CHECKOUT), os.environ.get("PYTHONPATH")))),
            "CCHC_DATA_DIR": str(workdir / "var"),
            **(env or {}),
        },
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def admin_headers(workdir: Path) -> dict[str, str]:
    """The header of the admin key the first ``cchc run`` in ``workdir`` wrote to its data dir."""
    return {"Authorization": f"Bearer {(workdir / 'var' / 'admin.key').read_text().strip()}"}


@pytest.fixture
def admin(tmp_path: Path) -> Callable[[], dict[str, str]]:
    """The admin key header of the embedded ``cchc run`` this test started (call after starting it)."""
    return lambda: admin_headers(tmp_path)


@pytest.fixture
def start_cchc(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start ``cchc <args>`` processes for one test."""
    with cchc_processes(tmp_path) as start:
        yield start
