"""Retrying with backoff: until success, at once for other errors, the maximum for patient ones, and a stop."""

from __future__ import annotations

import asyncio

import pytest

from shared.retrying import Stopped, with_backoff


class Flaky(Exception):
    pass


class Misconfigured(Exception):
    pass


async def test_it_tries_until_success_and_reports_each_failure_with_its_delay():
    failures: list[tuple[str, float]] = []
    calls = 0
    async for attempt in with_backoff(
        initial=0.001, maximum=0.004, retry_on=Flaky, on_failure=lambda e, d: failures.append((type(e).__name__, d))
    ):
        with attempt:
            calls += 1
            if calls < 4:
                raise Flaky
    assert calls == 4 and [name for name, _ in failures] == ["Flaky"] * 3
    assert all(0 <= delay <= 0.004 for _, delay in failures)


async def test_an_error_it_does_not_retry_is_raised_at_once():
    calls = 0
    with pytest.raises(ValueError):
        async for attempt in with_backoff(initial=0.001, maximum=0.01, retry_on=Flaky):
            with attempt:
                calls += 1
                raise ValueError("not retried")
    assert calls == 1


async def test_a_patient_error_waits_the_maximum():
    delays: list[float] = []
    calls = 0
    async for attempt in with_backoff(
        initial=0.001, maximum=0.02, patient_on=Misconfigured, on_failure=lambda e, d: delays.append(d)
    ):
        with attempt:
            calls += 1
            if calls == 1:
                raise Misconfigured
    assert delays == [0.02]


async def test_setting_stop_ends_the_wait():
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, stop.set)
    started = asyncio.get_running_loop().time()
    with pytest.raises(Stopped):
        async for attempt in with_backoff(initial=60, maximum=60, stop=stop):
            with attempt:
                raise Flaky
    assert asyncio.get_running_loop().time() - started < 5
