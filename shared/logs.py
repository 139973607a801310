"""JSON logs carrying the request id or event id of the work being done."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
event_id_var: ContextVar[str | None] = ContextVar("event_id", default=None)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request/event id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (request_id := request_id_var.get()) is not None:
            entry["request_id"] = request_id
        if (event_id := event_id_var.get()) is not None:
            entry["event_id"] = event_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


PRINT_DATA = ("sqlalchemy.engine", "aiosqlite", "asyncpg", "httpcore")
"""Libraries whose debug lines carry the data they handle: held at WARNING whatever the level."""


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_lines else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # their INFO and DEBUG lines print statements' parameters or bodies: citizens' personal data
    for talkative in PRINT_DATA:
        logging.getLogger(talkative).setLevel(max(logging.WARNING, root.level))
    # uvicorn's access log would print every request line without ids; ours is in the middleware
    logging.getLogger("uvicorn.access").disabled = True


@contextmanager
def quieter(*names: str, level: int = logging.WARNING) -> Iterator[None]:
    """Only ``level`` and above from the loggers ``names`` while the block runs (a command's
    migrations: Alembic's INFO lines are noise on the stderr of ``cchc keys``)."""
    loggers = [logging.getLogger(name) for name in names]
    before = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(max(level, logger.getEffectiveLevel()))
    try:
        yield
    finally:
        for logger, old in zip(loggers, before, strict=True):
            logger.setLevel(old)
