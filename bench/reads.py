"""Reading one dossier over HTTP, against a bare FastAPI endpoint measured in the same run.

Run ``python -m bench.reads [--backend both|postgres|sqlite] [--dossiers 20000] [--connections 50]
[--duration 10] [--rounds 3]``. Needs ``wrk`` (Debian: ``apt-get install wrk``).

* **bare**: ``bench/bare.py`` under uvicorn (uvloop, httptools, one process) answering a small
  JSON: the most one Python process serving FastAPI answers on this machine.
* **postgres**: ``cchc serve dossiers`` (one process) on a PostgreSQL the benchmark starts and
  switches to durable settings (``fsync`` and ``synchronous_commit`` on), holding ``--dossiers``
  realistic dossiers pushed through ``/dossiers/v1/sync/dvcqg`` beforehand.
* **sqlite**: embedded ``cchc run`` (all four services in one process, SQLite files) with the same
  dossiers; while wrk reads, the benchmark pushes batches of ``--push-batch`` new dossiers to the
  same process, one batch in flight, as a provincial system would (the push rate is reported).

Every request is ``GET /dossiers/v1/dossiers/{MaHoSo}`` of a random stored dossier, ``wrk -t2
-c<connections>`` on 127.0.0.1; bare and service runs alternate ``--rounds`` times and the medians
are compared. Any answer other than 200 fails the benchmark. The load average of the machine is
recorded before and after each run (other work on the machine shares its CPUs). Results go to
``bench/results/reads.json``; a markdown table is printed for docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.dossiers import batches
from bench.outbox_relay import PostgresBackend
from bench.service_keys import UNLIMITED, admin_key, bearer
from shared.calendar import WorkingCalendar
from shared.clock import VN_TZ
from simulator.workload import ProvincialWorkload

RESULTS = Path(__file__).parent / "results"
LOADED = datetime(2024, 1, 2, 7, tzinfo=VN_TZ)  # the dossiers read
PUSHED = datetime(2023, 1, 3, 7, tzinfo=VN_TZ)  # the dossiers pushed during the embedded reads
SYNC = "/dossiers/v1/sync/dvcqg"
BIN = Path(sys.executable).parent


class Process:
    """A server process on a port of 127.0.0.1, stopped on leaving."""

    def __init__(self, command: Sequence[str], port: int, probe: str, env: dict[str, str] | None = None) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.probe = probe
        self.headers: dict[str, str] = {}  # what every request to it carries (a service's admin key)
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            list(command), env={**os.environ, **(env or {})}, stdout=self.log, stderr=subprocess.STDOUT
        )

    async def __aenter__(self) -> Process:
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                if self.process.poll() is not None:
                    break
                try:
                    if (await client.get(self.base + self.probe)).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        self.stop()
        self.log.seek(0)
        raise RuntimeError(f"{self.base} did not come up:\n{self.log.read().decode()[-3000:]}")

    async def __aexit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def bare(port: int) -> Process:
    command = [str(BIN / "uvicorn"), "bench.bare:app", "--port", str(port), "--loop", "uvloop", "--http", "httptools"]
    return Process([*command, "--no-access-log", "--log-level", "warning"], port, "/item/x")


def cchc(args: Sequence[str], port: int, env: dict[str, str]) -> Process:
    command = [str(BIN / "cchc"), *args, "--host", "127.0.0.1", "--port", str(port)]
    return Process(command, port, "/dossiers/readyz", {"CCHC_LOG_LEVEL": "WARNING", **UNLIMITED, **env})


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wrk(
    server: Process, paths: Sequence[str], connections: int, duration: int, threads: int = 2
) -> dict[str, Any]:
    """``wrk`` on random ``paths`` of ``server``: requests/s, latency percentiles (ms) and the
    server process's CPU per request (µs)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write("local paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n")
        script.writelines(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in server.headers.items())
        script.write("request = function() return wrk.format('GET', paths[math.random(#paths)]) end\n")
        script.flush()
        before, cpu = load_average(), cpu_seconds(server.process.pid)
        process = await asyncio.create_subprocess_exec(
            "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script.name, server.base,
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out = (await process.communicate())[0].decode()
        cpu = cpu_seconds(server.process.pid) - cpu
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    connect, read, write, timeouts = (int(n) for n in errors.groups()) if errors else (0, 0, 0, 0)
    if process.returncode != 0 or "Non-2xx" in out or connect or read or write:
        raise RuntimeError(f"wrk reported failures:\n{out}")
    percentiles = {
        share: float(number) * _UNITS[unit]
        for share, number, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    }
    if len(percentiles) != 4:
        raise RuntimeError(f"wrk's latency distribution not read:\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "cpu_us_per_request": round(cpu / requests * 1e6),
        "timeouts_over_2s": timeouts,
        **{f"p{k}_ms": round(v, 2) for k, v in percentiles.items()},
        "load_before": before,
        "load_after": load_average(),
    }


async def push(service: Process, bodies: list[bytes]) -> int:
    """POST every body in turn; returns the records stored."""
    stored = 0
    async with httpx.AsyncClient(timeout=300, headers=service.headers) as client:
        for body in bodies:
            response = await client.post(
                service.base + SYNC, content=body, headers={"content-type": "application/json"}
            )
            response.raise_for_status()
            stored += response.json()["created"]
    return stored


class Pusher:
    """Pushes batches to ``base`` one after the other while a read run lasts (each batch once)."""

    def __init__(self, service: Process, bodies: list[bytes], size: int) -> None:
        self.base, self.headers, self.size = service.base, service.headers, size
        self._bodies = iter(bodies)
        self._stop = asyncio.Event()

    async def run(self) -> dict[str, int]:
        """Push until :meth:`stop`; the records pushed and their rate."""
        self._stop.clear()
        records, started = 0, time.perf_counter()
        async with httpx.AsyncClient(timeout=300, headers=self.headers) as client:
            while not self._stop.is_set() and (body := next(self._bodies, None)) is not None:
                response = await client.post(
                    self.base + SYNC, content=body, headers={"content-type": "application/json"}
                )
                response.raise_for_status()
                records += self.size
        return {"records": records, "records_per_s": round(records / (time.perf_counter() - started))}

    def stop(self) -> None:
        self._stop.set()


async def profiled(process: Process, output: Path, seconds: int) -> asyncio.subprocess.Process:
    """py-spy sampling ``process`` for ``seconds`` into ``output`` (collapsed stacks, one per line)."""
    return await asyncio.create_subprocess_exec(
        str(BIN / "py-spy"), "record", "--pid", str(process.process.pid), "--duration", str(seconds),
        "--rate", "250", "--nonblocking", "--gil", "--format", "raw", "--output", str(output), stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def rounds(
    bare_server: Process,
    service: Process,
    keys: list[str],
    args: argparse.Namespace,
    name: str,
    pusher: Pusher | None = None,
) -> dict[str, Any]:
    """Alternate wrk on the bare endpoint and on the service; the service runs beside ``pusher``."""
    bare_runs, service_runs, pushes = [], [], []
    dossier_paths = [f"/dossiers/v1/dossiers/{key}" for key in keys]
    bare_paths = [f"/item/{key}" for key in keys]
    for _ in range(args.rounds):
        bare_runs.append(await wrk(bare_server, bare_paths, args.connections, args.duration))
        pushing = asyncio.create_task(pusher.run()) if pusher is not None else None
        if pushing is not None:
            await asyncio.sleep(1)  # the push is under way when the reads start
        spy = await profiled(service, RESULTS / f"reads-{name}.py-spy.txt", args.duration) if args.py_spy else None
        service_runs.append(await wrk(service, dossier_paths, args.connections, args.duration))
        if spy is not None:
            await spy.wait()
        if pusher is not None and pushing is not None:
            pusher.stop()
            pushes.append(await pushing)
    result: dict[str, Any] = {"bare": bare_runs, "service": service_runs}
    if pushes:
        result["push"] = pushes
    for name in ("bare", "service"):
        runs = result[name]
        result[f"{name}_median"] = {
            key: statistics.median(run[key] for run in runs)
            for key in ("requests_per_s", "p50_ms", "p99_ms", "cpu_us_per_request")
        }
    result["ratio"] = round(result["service_median"]["requests_per_s"] / result["bare_median"]["requests_per_s"], 3)
    return result


def workload(count: int, start: datetime, seed: int) -> list[dict[str, Any]]:
    return list(ProvincialWorkload(seed, WorkingCalendar()).dossiers(count, start))


async def postgres_run(args: argparse.Namespace, records: list[dict[str, Any]]) -> dict[str, Any]:
    pg = PostgresBackend()
    try:
        settings = await pg.make_durable()
        url = await pg.fresh_url()
        env = {"CCHC_DOSSIERS_DATABASE_URL": url, "CCHC_DATA_DIR": tempfile.mkdtemp(prefix="cchc-reads-")}
        key = await admin_key(url)  # written before the service loads its key ring
        async with (
            bare(args.port) as yardstick,
            cchc(["serve", "dossiers", "--migrate"], args.port + 1, env) as service,
        ):
            service.headers = bearer(key)
            await push(service, batches(records, 1000))
            keys = [str(r["MaHoSo"]) for r in records]
            return {
                "server": settings,
                **await rounds(yardstick, service, keys, args, "postgres"),
            }
    finally:
        pg.close()


async def sqlite_run(args: argparse.Namespace, records: list[dict[str, Any]]) -> dict[str, Any]:
    data = tempfile.mkdtemp(prefix="cchc-reads-")
    try:
        pushed = batches(workload(args.push_records, PUSHED, 2), args.push_batch)
        async with bare(args.port) as yardstick, cchc(["run", "--data-dir", data], args.port + 1, {}) as service:
            service.headers = bearer((Path(data) / "admin.key").read_text().strip())  # the first run's key
            await push(service, batches(records, 1000))
            keys = [str(r["MaHoSo"]) for r in records]
            pusher = Pusher(service, pushed, args.push_batch)
            return await rounds(yardstick, service, keys, args, "sqlite", pusher)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def table(results: dict[str, Any]) -> str:
    lines = [
        "| | req/s (median) | p50 | p99 | ratio to bare | load average (before → after) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for backend, label in (
        ("postgres", "`cchc serve dossiers`, PostgreSQL"),
        ("sqlite", "embedded `cchc run`, SQLite"),
    ):
        if backend not in results:
            continue
        run = results[backend]
        for name, text in (("bare", "bare FastAPI"), ("service", label)):
            m = run[f"{name}_median"]
            loads = f"{run[name][0]['load_before']} → {run[name][-1]['load_after']}"
            ratio = f"{run['ratio']:.2f}" if name == "service" else ""
            lines.append(
                f"| {text} | {m['requests_per_s']:,.0f} | {m['p50_ms']:.1f} ms | {m['p99_ms']:.1f} ms | {ratio} | {loads} |"
            )
        if "push" in run:
            rates = ", ".join(f"{p['records_per_s']:,}" for p in run["push"])
            lines.append(f"| push beside it (records/s per round) | {rates} | | | | |")
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["both", "postgres", "sqlite"], default="both")
    parser.add_argument("--dossiers", type=int, default=20_000, help="dossiers stored before reading")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--push-batch", type=int, default=1000, help="records per pushed batch (embedded)")
    parser.add_argument("--push-records", type=int, default=200_000, help="records ready to push (embedded)")
    parser.add_argument("--port", type=int, default=8870)
    parser.add_argument("--py-spy", action="store_true", help="profile the service's runs into bench/results/")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")

    RESULTS.mkdir(exist_ok=True)
    records = workload(args.dossiers, LOADED, 1)
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} vCPU, Python {platform.python_version()}",
        "connections": args.connections,
        "duration_s": args.duration,
        "dossiers": args.dossiers,
    }
    if args.backend in ("both", "postgres"):
        results["postgres"] = await postgres_run(args, records)
    if args.backend in ("both", "sqlite"):
        results["sqlite"] = await sqlite_run(args, records)
    (RESULTS / "reads.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(table(results))


if __name__ == "__main__":
    asyncio.run(main())
