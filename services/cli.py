"""The ``cchc`` command: run, serve, migrate, dead letters, the events catalogue."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import fields
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from pydantic import ValidationError

from services.catalog import SERVICE_NAMES, definitions, settings_class
from services.plans import keys
from services.scoring import recount
from shared.asyncapi import asyncapi_document
from shared.audit import CLI
from shared.auth import ROLES
from shared.bus.base import DeadLetter
from shared.bus.inprocess import InProcessBus
from shared.clock import VN_TZ
from shared.logs import configure_logging, quieter
from shared.problems import DomainError
from shared.runtime import Runtime, freeze_startup_heap
from shared.service import ServiceDefinition
from shared.settings import Settings
from shared.uow import UnitOfWork
from simulator.server import Options, serve

T = TypeVar("T")
ADMIN_KEY_FILE = "admin.key"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = settings_class()()  # every service's variables, whichever the command runs
    if getattr(args, "data_dir", None):
        settings = settings.model_copy(update={"data_dir": args.data_dir})
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return int(args.command(args, settings) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cchc", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="all four services in one process (embedded mode)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--data-dir", type=Path, help="where the SQLite databases live (CCHC_DATA_DIR)")
    run.add_argument("--demo", action="store_true", help="load demo data on start")
    run.set_defaults(command=_run)

    serve = commands.add_parser("serve", help="one service alone (distributed mode)")
    serve.add_argument("service", choices=SERVICE_NAMES)
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--migrate", action="store_true", help="apply its migrations before serving")
    serve.set_defaults(command=_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.add_argument(
        "services", nargs="*", metavar="SERVICE", help=f"any of {', '.join(SERVICE_NAMES)} (default: all)"
    )
    migrate.add_argument("--data-dir", type=Path)
    migrate.set_defaults(command=_migrate)

    dlt = commands.add_parser("dlt", help="dead letters: list or replay")
    dlt_commands = dlt.add_subparsers(required=True, metavar="ACTION")
    for action, handler, text in (
        ("list", _dlt_list, "show pending dead letters"),
        ("replay", _dlt_replay, "deliver them again"),
    ):
        sub = dlt_commands.add_parser(action, help=text)
        sub.add_argument(
            "--service", choices=SERVICE_NAMES, help="only this consuming (in-process) or producing (Kafka) service"
        )
        sub.add_argument("--data-dir", type=Path)
        sub.set_defaults(command=handler)

    simulate = commands.add_parser("simulate", help="simulated partner systems for demos and tests")
    partners = simulate.add_subparsers(required=True, metavar="SYSTEM")
    provincial = partners.add_parser("provincial", help="a provincial one-stop system: pull API, optional push")
    provincial.add_argument("--host", default="127.0.0.1")
    provincial.add_argument("--port", type=int, default=8100)
    provincial.add_argument("--seed", type=int, default=1)
    provincial.add_argument(
        "--rate", type=float, default=120.0, help="dossiers per simulated office hour, province-wide"
    )
    provincial.add_argument(
        "--start",
        type=_instant,
        help="where the history starts, ISO date or instant (Vietnam time if naive; default now): "
        "the dossiers from then to now are there at once, then time runs as the real clock does",
    )
    provincial.add_argument(
        "--demo",
        action="store_true",
        help="the live demo: offices open around the clock, and procedures of 15 and 30 minutes that often go late",
    )
    provincial.add_argument("--push-to", metavar="URL", help="also POST DongBoHoSoMC batches there")
    provincial.add_argument("--token", help="bearer token the pull API requires and pushes carry")
    provincial.set_defaults(command=_simulate_provincial)

    scoring = commands.add_parser(
        "scoring", help="the scoring read model: recount and swap in, or compare with the live one"
    )
    scoring_commands = scoring.add_subparsers(required=True, metavar="ACTION")
    for action, text in (
        ("rebuild", "recount from the dossiers and plans APIs and swap it in"),
        ("verify", "compare live with a recount; exit 1 on any difference"),
    ):
        sub = scoring_commands.add_parser(action, help=text)
        sub.add_argument(
            "--url",
            default="http://127.0.0.1:8000",
            help="where the dossiers and plans APIs answer (the embedded server or the ingress)",
        )
        sub.add_argument("--plans-url", help="where the plans API answers, if not at --url (no ingress)")
        sub.add_argument("--token", help="bearer token for those APIs")
        sub.add_argument("--data-dir", type=Path)
        sub.set_defaults(command=_scoring, action=action)

    keys = commands.add_parser("keys", help="API keys: create, list, revoke (in the plans database)")
    key_commands = keys.add_subparsers(required=True, metavar="ACTION")
    create = key_commands.add_parser("create", help="make a key; it is printed alone on the last line, this once")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--unit", help="limit the key to this unit code and its sub-units")
    create.add_argument("--expires", type=_expiry, help="ISO date (valid through that day, Vietnam time) or instant")
    create.add_argument("--name", default="", help="what the key is for, who holds it")
    create.set_defaults(command=_keys_create)
    listing = key_commands.add_parser("list", help="every key, one JSON line each (never the keys themselves)")
    listing.set_defaults(command=_keys_list)
    revoke = key_commands.add_parser("revoke", help="revoke a key: every service refuses it within seconds")
    revoke.add_argument("id", help="the key's id or prefix (cchc_...)")
    revoke.set_defaults(command=_keys_revoke)
    for sub in (create, listing, revoke):
        sub.add_argument("--data-dir", type=Path)

    catalogue = commands.add_parser("catalogue", help="print the AsyncAPI events catalogue, or write it to a file")
    catalogue.add_argument("--output", type=Path, help="the file to write (the repository's: docs/asyncapi.json)")
    catalogue.set_defaults(command=_catalogue)
    return parser


def _run(args: argparse.Namespace, settings: Settings) -> None:
    admin_key = asyncio.run(_first_admin_key(settings))
    if admin_key is not None:
        print(f"cchc: made an admin API key (shown this once, kept in {settings.data_dir / ADMIN_KEY_FILE}):")
        print(admin_key, flush=True)
    runtime = Runtime(definitions(), settings)
    print(
        f"cchc: all services on http://{args.host}:{args.port}/ (GraphQL at /graphql, "
        f"REST docs at /<service>/docs); data in {settings.data_dir.resolve()}",
        file=sys.stderr,
    )
    app = runtime.app(migrate=True, demo=args.demo)
    uvicorn.run(app, host=args.host, port=args.port, **_server_options(settings, embedded=True))


async def _first_admin_key(settings: Settings) -> str | None:
    """On the first embedded run (no ``<data-dir>/admin.key`` yet): an admin key, written there
    readable by its owner only."""
    path = settings.data_dir / ADMIN_KEY_FILE
    if path.exists():
        return None
    made = await _with_keys(settings, lambda uow: keys.create(uow, keys.ApiKeyIn(role="admin", name="first run")))
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(made.key + "\n")
    return made.key


async def _with_keys(settings: Settings, action: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """``action`` in one committed transaction of the plans database (the keys' owner): its
    outbox row is published by the running plans relay."""
    runtime = Runtime(definitions(["plans"]), settings)
    try:
        with quieter("alembic"):
            await runtime.migrate()
        async with runtime["plans"].uow(CLI) as uow:
            result = await action(uow)
            await uow.commit()
            return result
    finally:
        await runtime.stop()


def _keys_create(args: argparse.Namespace, settings: Settings) -> int:
    try:
        request = keys.ApiKeyIn(role=args.role, unit=args.unit, expires_at=args.expires, name=args.name)
        made = asyncio.run(_with_keys(settings, lambda uow: keys.create(uow, request)))
    except (ValidationError, DomainError) as exc:
        return _refused(exc)
    details = made.model_dump(mode="json", exclude={"key"})
    print(json.dumps(details, ensure_ascii=False), file=sys.stderr)
    print(made.key)
    return 0


def _keys_list(args: argparse.Namespace, settings: Settings) -> None:
    for key in asyncio.run(_with_keys(settings, keys.listed)):
        print(json.dumps(key.model_dump(mode="json"), ensure_ascii=False))


def _keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    try:
        revoked = asyncio.run(_with_keys(settings, lambda uow: keys.revoke(uow, args.id)))
    except DomainError as exc:
        return _refused(exc)
    print(json.dumps(revoked.model_dump(mode="json"), ensure_ascii=False))
    return 0


def _refused(exc: ValidationError | DomainError) -> int:
    """A refused key command: what is wrong, field by field, and exit status 2."""
    if isinstance(exc, ValidationError):
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    else:
        problems = [f"{e['field']}: {e['message']}" for e in exc.errors] or [exc.detail]
    for line in problems:
        print(f"cchc keys: {line}", file=sys.stderr)
    return 2


def _expiry(text: str) -> datetime:
    """A date means through that day (to the next midnight, Vietnam time); a naive instant is Vietnam time."""
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text) + timedelta(days=1), time(), VN_TZ)
    return _instant(text)


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    definitions()  # every service's events in the registry (webhook filters name them), one served
    runtime = Runtime(definitions([args.service]), settings)
    app = runtime.app(migrate=args.migrate)
    uvicorn.run(app, host=args.host, port=args.port, **_server_options(settings, embedded=False))


def _server_options(settings: Settings, *, embedded: bool) -> dict[str, Any]:
    """uvicorn's own limits (docs/operations.md; the others are the app's middlewares) and event loop.

    ``auto`` takes the standard loop for the embedded process: there the reads share the loop
    with the push and every consumer, and under uvloop their p99 stayed at 90–260 ms while the
    standard loop kept it under 40 ms (docs/performance.md, reads, sixth pass)."""
    loop = settings.event_loop if settings.event_loop != "auto" else "asyncio" if embedded else "uvloop"
    return {
        "loop": loop,
        "log_config": None,
        "timeout_keep_alive": settings.limits_keep_alive_timeout,
        "limit_concurrency": settings.limits_max_concurrency,
    }


def _simulate_provincial(args: argparse.Namespace, settings: Settings) -> None:
    options = {field.name: getattr(args, field.name) for field in fields(Options)}
    serve(Options(**options))


def _instant(text: str) -> datetime:
    instant = datetime.fromisoformat(text)
    return instant if instant.tzinfo else instant.replace(tzinfo=VN_TZ)


def _migrate(args: argparse.Namespace, settings: Settings) -> None:
    asyncio.run(Runtime(definitions(args.services or SERVICE_NAMES), settings).migrate())


def _dlt_list(args: argparse.Namespace, settings: Settings) -> None:
    async def collect() -> list[dict[str, object]]:
        return [
            {
                "ref": letter.ref,
                "consumer": letter.consumer,
                "topic": letter.message.topic,
                "key": letter.message.key,
                "error": letter.error,
                "attempts": letter.attempts,
                "failed_at": letter.failed_at.isoformat(),
            }
            for letter in await _dead_letters(args, settings)
        ]

    for row in asyncio.run(collect()):
        print(json.dumps(row, ensure_ascii=False))


def _dlt_replay(args: argparse.Namespace, settings: Settings) -> None:
    print(f"replayed {asyncio.run(_replay(args, settings))} dead letter(s)", file=sys.stderr)


async def _dead_letters(args: argparse.Namespace, settings: Settings) -> list[DeadLetter]:
    names = [args.service] if args.service else list(SERVICE_NAMES)
    if settings.bus == "kafka":
        from shared.bus.kafka import read_dead_letters

        return await read_dead_letters(settings, [f"cchc.{n}" for n in names])
    runtime = Runtime(_consumers(names), settings)
    try:
        await runtime.migrate()  # a service that never ran has an empty dead-letter table, not none
        return [letter for c in runtime.contexts.values() for letter in await c.dead_letters.pending()]
    finally:
        await runtime.stop()


async def _replay(args: argparse.Namespace, settings: Settings) -> int:
    names = [args.service] if args.service else list(SERVICE_NAMES)
    if settings.bus == "kafka":
        from shared.bus.kafka import replay_dead_letters

        return await replay_dead_letters(settings, [f"cchc.{n}" for n in names])
    bus = InProcessBus()
    runtime = Runtime(_consumers(names), settings, bus=bus)
    runtime.subscribe()
    replayed = 0
    try:
        await runtime.migrate()
        for context in runtime.contexts.values():
            for letter in await context.dead_letters.pending():
                await bus.deliver(letter.consumer, [letter.message])
                await context.dead_letters.mark_replayed(letter.ref, runtime.clock.now())
                replayed += 1
    finally:
        await runtime.stop()
    return replayed


def _scoring(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_scoring_recount(args, settings))


async def _scoring_recount(args: argparse.Namespace, settings: Settings) -> int:
    runtime = Runtime(definitions(["scoring"]), settings)
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    try:
        await runtime.migrate()
        freeze_startup_heap()  # a recount makes millions of short-lived objects: fewer collector scans
        async with (
            httpx.AsyncClient(base_url=args.url, headers=headers, timeout=120) as client,
            httpx.AsyncClient(base_url=args.plans_url or args.url, headers=headers, timeout=120) as plans,
            runtime["scoring"].uow(CLI) as uow,
        ):
            if args.action == "rebuild":
                counted = await recount.rebuild(uow, client, plans)
                await uow.commit()
                print(f"rebuilt the scoring read model from {counted} dossier(s)", file=sys.stderr)
                return 0
            found = await recount.verify(uow, client)
    finally:
        await runtime.stop()
    for d in found:
        print(
            json.dumps(
                {"unit": d.unit, "period": d.period, "code": d.code, "live": d.live, "recount": d.recount},
                ensure_ascii=False,
            )
        )
    print(f"{len(found)} difference(s) between the live read model and the recount", file=sys.stderr)
    return 1 if found else 0


def _consumers(names: Sequence[str]) -> list[ServiceDefinition]:
    """The services among ``names`` that consume events (only they keep dead letters)."""
    return [d for d in definitions(names) if d.subscriptions]


def catalogue_text() -> str:
    """The AsyncAPI catalogue of every service's events, as committed in docs/."""
    definitions()  # importing every service registers its events
    return json.dumps(asyncapi_document(SERVICE_NAMES), indent=2, ensure_ascii=False) + "\n"


def _catalogue(args: argparse.Namespace, settings: Settings) -> None:
    if args.output is None:
        sys.stdout.write(catalogue_text())
        return
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(catalogue_text(), encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
