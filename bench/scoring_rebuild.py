"""``cchc scoring rebuild`` and ``verify`` over a province's dossiers, on PostgreSQL, distributed.

Run ``python -m bench.scoring_rebuild [--dossiers 2000000] [--rebuilds 1] [--profile]``.

PostgreSQL (started by the benchmark, switched to durable settings: fsync, synchronous_commit and
full_page_writes on) holds a database per service. The dossiers database gets ``--dossiers``
dossiers over 300 units in two levels by SQL (``bench.lists``' loader: a year of 2024 receipts,
the last month open), the plans database the same 300 units (``PUT /plans/v1/units``). Then
``cchc serve dossiers``, ``cchc serve plans`` and ``cchc serve scoring`` run as processes, and
``cchc scoring rebuild --url <dossiers> --plans-url <plans>`` is timed (it pages
``GET /dossiers/v1/dossiers``, the source of truth), then ``cchc scoring verify`` (which must find
no difference). With ``--rebuilds N`` the rebuild runs N times in a row (the scoring service's
publisher is then still working through the first one's marks). Reported: wall time, dossiers/s, the CPU seconds of the command and of the dossiers
server, and the load average before and after. ``--profile`` runs the command under cProfile
(``bench/results/scoring_rebuild.prof``). Results go to ``bench/results/scoring_rebuild.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from bench.lists import COMMUNES, DISTRICTS, load, register_units
from bench.outbox_relay import PostgresBackend, environment
from bench.reads import BIN, Process, cpu_seconds, load_average
from bench.service_keys import UNLIMITED, bearer, shared_admin_key
from services.catalog import definitions
from services.dossiers.settings import DossiersSettings
from shared.runtime import Runtime

RESULTS = Path(__file__).parent / "results"


async def load_dossiers(url: str, dossiers: int, workdir: Path) -> float:
    """The dossiers database: migrated, its units replica, ``dossiers`` rows by SQL; seconds taken."""
    settings = DossiersSettings(data_dir=workdir, dossiers_database_url=SecretStr(url))
    runtime = Runtime(definitions(["dossiers"]), settings)
    await runtime.start(migrate=True, relays=False, schedulers=False)
    try:
        await register_units(runtime)
        return await load(runtime, dossiers)
    finally:
        await runtime.stop()


async def plans_units(base: str, key: str) -> None:
    """The same 300 units in the plans service, as an officer would enter them."""
    async with httpx.AsyncClient(base_url=base, headers=bearer(key), timeout=30) as client:
        for district in DISTRICTS:
            units = [(district, {"name": district, "level": "district"})]
            units += [(c, {"name": c, "level": "commune", "parent_code": district}) for c in COMMUNES[district]]
            for code, body in units:
                response = await client.put(f"/plans/v1/units/{code}", json=body)
                if response.status_code not in (200, 201):
                    raise RuntimeError(f"{code}: {response.status_code} {response.text[:300]}")


def timed_command(args: list[str], env: dict[str, str], profile: Path | None) -> dict[str, Any]:
    """Run ``cchc <args>`` to its end: wall seconds, CPU seconds, exit code, the last lines it wrote."""
    command = [str(BIN / "cchc"), *args]
    if profile is not None:
        command = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "services.cli", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "peak_rss_mb": round(after.ru_maxrss / 1024),
        "exit": done.returncode,
        "stderr": done.stderr.strip().splitlines()[-3:],
    }


async def main(args: argparse.Namespace) -> None:
    os.environ.update(UNLIMITED)
    backend = PostgresBackend()
    results: dict[str, Any] = {"dossiers": args.dossiers, "environment": environment()}
    names = ["rebuild", *(f"rebuild_{n}" for n in range(2, args.rebuilds + 1)), "verify"]
    try:
        results["postgres"] = await backend.make_durable()
        urls = {name: await backend.fresh_url() for name in ("dossiers", "plans", "scoring")}
        with tempfile.TemporaryDirectory(prefix="cchc-bench-rebuild-") as workdir:
            results["load_seconds"] = round(await load_dossiers(urls["dossiers"], args.dossiers, Path(workdir)), 1)
            key = await shared_admin_key(urls)
            env = {
                "CCHC_DATA_DIR": workdir,
                "CCHC_LOG_LEVEL": "WARNING",
                **{f"CCHC_{name.upper()}_DATABASE_URL": url for name, url in urls.items()},
            }
            ports = {"dossiers": args.port, "plans": args.port + 1, "scoring": args.port + 2}
            servers = [
                Process(
                    [str(BIN / "cchc"), "serve", name, "--migrate", "--host", "127.0.0.1", "--port", str(port)],
                    port,
                    f"/{name}/readyz",
                    {**UNLIMITED, **env},
                )
                for name, port in ports.items()
            ]
            async with servers[0] as dossiers, servers[1] as plans, servers[2]:
                await plans_units(plans.base, key)
                command = ["scoring", "--url", dossiers.base, "--plans-url", plans.base, "--token", key]
                for name in names:
                    action = name.split("_")[0]
                    cpu_before = cpu_seconds(dossiers.process.pid)
                    load_before = load_average()
                    profile = RESULTS / f"scoring_{name}.prof" if args.profile else None
                    RESULTS.mkdir(exist_ok=True)
                    run = timed_command([command[0], action, *command[1:]], env, profile)
                    run.update(
                        dossiers_per_second=round(args.dossiers / run["seconds"]),
                        dossiers_server_cpu_seconds=round(cpu_seconds(dossiers.process.pid) - cpu_before, 1),
                        load_average_before=load_before,
                        load_average_after=load_average(),
                    )
                    results[name] = run
                    print(name, json.dumps(run), flush=True)
                    if run["exit"] != 0:
                        raise SystemExit(f"{action} failed: {run['stderr']}")
    finally:
        backend.close()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scoring_rebuild.json").write_text(json.dumps(results, indent=2))
    print(f"\n{args.dossiers:,} dossiers over 300 units, loaded by SQL in {results['load_seconds']} s")
    print("| command | wall | dossiers/s | CPU: command / dossiers server | load average before → after |")
    print("|---|---:|---:|---:|---|")
    for name in names:
        r = results[name]
        print(
            f"| `cchc scoring {name.replace('_', ' #')}` | {r['seconds']} s | {r['dossiers_per_second']:,} "
            f"| {r['cpu_seconds']} / {r['dossiers_server_cpu_seconds']} s "
            f"| {r['load_average_before']} → {r['load_average_after']} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=2_000_000)
    parser.add_argument("--port", type=int, default=8310)
    parser.add_argument("--rebuilds", type=int, default=1, help="rebuilds in a row before the verify")
    parser.add_argument("--profile", action="store_true", help="run the commands under cProfile")
    asyncio.run(main(parser.parse_args()))
