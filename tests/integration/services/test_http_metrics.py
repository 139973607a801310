"""Every answer is counted under its service, method, route template and status, as /metrics shows
them to Prometheus: the template (one series per route), never the concrete path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.catalog import definitions
from shared.runtime import Runtime
from tests.support.runtime import serving


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the labels are the HTTP layer's: one database is enough


def count(metrics: str, **labels: str) -> float:
    """The value of ``cchc_http_requests_total`` with exactly these labels (0 if absent)."""
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == "cchc_http_requests_total" and sample.labels == labels:
                return float(sample.value)
    return 0.0


async def test_requests_are_counted_by_route_template_service_and_status(make_settings: Callable[..., Any]):
    settings = await make_settings("plans", "dossiers")
    async with serving(Runtime(definitions(["plans", "dossiers"]), settings)) as client:
        before = (await client.get("/dossiers/metrics")).text
        for key in ("000.00.12.H42-240415-0001", "000.00.12.H42-240415-0002"):
            assert (await client.get(f"/dossiers/v1/dossiers/{key}")).status_code == 404
        assert (await client.get("/plans/v1/units")).status_code == 200
        assert (await client.get("/dossiers/v1/nowhere")).status_code == 404
        after = (await client.get("/dossiers/metrics")).text

    one = {"service": "dossiers", "method": "GET", "route": "/dossiers/v1/dossiers/{ma_ho_so}", "status": "404"}
    assert count(after, **one) - count(before, **one) == 2
    units = {"service": "plans", "method": "GET", "route": "/plans/v1/units", "status": "200"}
    assert count(after, **units) - count(before, **units) == 1
    unmatched = {"service": "dossiers", "method": "GET", "route": "unmatched", "status": "404"}
    assert count(after, **unmatched) - count(before, **unmatched) == 1
    assert "000.00.12.H42-240415-0001" not in after  # a concrete path never becomes a label
