"""The docs pages as a person opens them, in headless Chromium that may reach only this machine:
Swagger UI renders and "Try it out" answers with data; GraphiQL runs a query and shows data."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import OfflineContext, browser  # noqa: F401  (the fixture)

# What every request carries: the admin key of the cchc run below (filled once it has started).
HEADERS: dict[str, str] = {}
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def cchc(tmp_path_factory: pytest.TempPathFactory):
    """``cchc run --demo``: the procedure catalogue and the units are there to be read."""
    from tests.e2e.conftest import admin_headers, cchc_processes

    workdir = tmp_path_factory.mktemp("docs")
    with cchc_processes(workdir) as start:
        base = start("run", "--demo")
        HEADERS.update(admin_headers(workdir))
        yield base


@pytest.fixture
def offline(browser: Browser):  # noqa: F811
    context = OfflineContext(browser, HEADERS)
    yield context
    context.close()


def open_page(offline: OfflineContext, url: str) -> Page:
    page = offline.context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.errors = errors  # type: ignore[attr-defined]
    return page


@pytest.mark.parametrize("service", ["plans", "dossiers", "scoring", "notifications"])
def test_swagger_ui_renders_every_service_from_its_own_assets(cchc, offline, service):
    page = open_page(offline, f"{cchc}/{service}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(f"cchc {service}", timeout=TIMEOUT_MS)
    expect(page.locator(".opblock").first).to_be_visible()
    assert offline.refused == [] and page.errors == []  # type: ignore[attr-defined]


def test_try_it_out_answers_with_data(cchc, offline):
    page = open_page(offline, f"{cchc}/dossiers/docs")
    operation = page.locator(".opblock-get", has=page.locator('[data-path="/v1/procedures"]'))
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    response = operation.locator(".live-responses-table .response")
    expect(response.locator(".response-col_status")).to_have_text("200", timeout=TIMEOUT_MS)
    body = json.loads(response.locator(".response-col_description pre").first.inner_text())
    expected = httpx.get(f"{cchc}/dossiers/v1/procedures", headers=HEADERS).json()
    assert body["items"] and body["items"] == expected["items"]
    assert offline.refused == []


@pytest.mark.parametrize("path", ["/graphql", "/plans/graphql"])
def test_graphiql_runs_a_query_and_shows_data(cchc, offline, path):
    query = "{ units(level: province) { code name } }"
    page = open_page(offline, f"{cchc}{path}?q={quote(query)}")
    page.locator(".graphiql-execute-button").click(timeout=TIMEOUT_MS)
    result = page.locator(".graphiql-response")
    expect(result).to_contain_text('"units"', timeout=TIMEOUT_MS)
    expected = httpx.post(f"{cchc}{path}", json={"query": query}, headers=HEADERS).json()["data"]["units"]
    assert expected, "the demo has provinces"
    for unit in expected:
        expect(result).to_contain_text(unit["name"])
    assert offline.refused == [] and page.errors == []  # type: ignore[attr-defined]
