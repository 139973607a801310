"""Headless Chromium (Debian's package) driven by Playwright, for tests of the pages a person opens.

Playwright is told to use the system Chromium (``CCHC_CHROMIUM`` or ``chromium`` on the PATH), so
no browser is downloaded. A missing Chromium skips the test outside CI and fails it under ``CI``
(``.ci/run`` installs it), as a missing PostgreSQL does.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Route, sync_playwright

LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}


def chromium_path() -> str:
    path = os.environ.get("CCHC_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    problem = "no chromium on the PATH (Debian: apt-get install chromium; or set CCHC_CHROMIUM)"
    if os.environ.get("CI"):
        pytest.fail(problem, pytrace=False)
    pytest.skip(problem)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


class OfflineContext:
    """A browser context that may reach only loopback addresses and records what else a page asked for.

    ``headers`` go with every request (the bearer token of an API that requires one)."""

    def __init__(self, browser: Browser, headers: dict[str, str] | None = None) -> None:
        self.context: BrowserContext = browser.new_context(extra_http_headers=headers or {})
        self.refused: list[str] = []
        self.context.route("**/*", self._only_loopback)

    def _only_loopback(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc.rsplit(":", 1)[0] not in LOOPBACK:
            self.refused.append(url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    def close(self) -> None:
        self.context.close()
