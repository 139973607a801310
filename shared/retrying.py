"""Retrying with exponential backoff and full jitter (tenacity), which a stop event interrupts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_random_exponential

from shared.aio import pause

ErrorTypes = type[BaseException] | tuple[type[BaseException], ...]


class Stopped(Exception):
    """The stop event was set while waiting to try again."""


def with_backoff(
    *,
    initial: float,
    maximum: float,
    retry_on: ErrorTypes = Exception,
    patient_on: ErrorTypes = (),
    stop: asyncio.Event | None = None,
    on_failure: Callable[[BaseException, float], None] | None = None,
) -> AsyncRetrying:
    """Try until success (``async for attempt in with_backoff(...): with attempt: ...``).

    Delays are drawn up to ``initial`` doubled per failure, at most ``maximum``, so that many
    clients that failed together do not retry together; after an error of ``patient_on`` (one a
    retry cannot fix soon, such as a configuration error) the wait is ``maximum``. An exception
    that is not ``retry_on`` is raised at once; waiting raises :class:`Stopped` once ``stop`` is
    set. ``on_failure(error, delay)`` is called before each wait (to log and count it).
    """
    backoff = wait_random_exponential(multiplier=initial, max=maximum)

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        return maximum if isinstance(error, patient_on) else backoff(state)

    async def sleep(seconds: float) -> None:
        if await pause(stop, seconds):
            raise Stopped

    def before_sleep(state: RetryCallState) -> None:
        if on_failure is not None and state.outcome is not None and state.next_action is not None:
            error = state.outcome.exception()
            assert error is not None
            on_failure(error, state.next_action.sleep)

    return AsyncRetrying(
        wait=wait, retry=retry_if_exception_type(retry_on), sleep=sleep, before_sleep=before_sleep, reraise=True
    )


def logged(log: logging.Logger, what: str) -> Callable[[BaseException, float], None]:
    """An ``on_failure`` that logs the error's type (never its text: it may hold personal data)."""

    def report(error: BaseException, delay: float) -> None:
        log.warning("%s failed (%s); retrying in %.1f s", what, type(error).__name__, delay)

    return report
