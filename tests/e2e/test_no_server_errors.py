"""Schemathesis against the OpenAPI of every service of a real ``cchc run --demo``: whatever the
generated request (a bounded number of examples per operation), the answer is never a 5xx, and it
is what the OpenAPI says it can be: a declared status, a declared media type, a body that matches
the declared schema (problem+json for every refusal, instants in Vietnam time). GraphQL queries
and mutations generated from the merged schema never get a 5xx either."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.graphql import nodes

from tests.e2e.conftest import admin_headers, cchc_processes

EXAMPLES_PER_OPERATION = 10  # about 95 operations in all: the four tests stay well under 3 minutes
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
BOUNDED = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,  # the same requests on every run: a failure is reproducible
    suppress_health_check=list(HealthCheck),
    database=None,
)

UPLOADS = {"Mutation.importPlan"}  # a multipart file upload, not a generated document


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    workdir = Path(tmp_path_factory.mktemp("schemathesis"))
    with cchc_processes(workdir) as start:
        # the generated requests come fast from one address: a burst large enough that none is a 429
        base = start("run", "--demo", probe="/dossiers/readyz", env={"CCHC_LIMITS_RATE_BURST": "100000"})
        yield base, admin_headers(workdir)


def failures_of(base: str, service: str, headers: dict[str, str]) -> list[str]:
    """Every operation of ``service`` fed generated requests; the failures found, one per operation."""
    schema = schemathesis.openapi.from_url(f"{base}/{service}/openapi.json")
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 5
    for operation in operations:

        @given(case=operation.as_strategy())
        @BOUNDED
        def probe(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=f"{base}/{service}", headers=headers, checks=CHECKS, timeout=30)

        try:
            probe()
        except Exception as failure:  # noqa: BLE001 - reported with the operation it came from
            failures.append(f"{operation.label}: {str(failure)[:1500]}")
    return failures


@pytest.mark.parametrize("service", ["plans", "dossiers", "scoring", "notifications"])
def test_every_answer_is_what_the_openapi_declares(demo: tuple[str, dict[str, str]], service: str) -> None:
    base, headers = demo
    assert failures_of(base, service, headers) == []


def test_no_generated_graphql_query_gets_a_server_error(demo: tuple[str, dict[str, str]]) -> None:
    """Queries and mutations generated from the merged schema (hypothesis-graphql): each answers
    with data or GraphQL errors, never a 5xx nor an ``INTERNAL_SERVER_ERROR``."""
    schemathesis.graphql.scalar("Decimal", strategies.decimals(allow_nan=False).map(lambda d: nodes.String(str(d))))
    base, headers = demo
    schema = schemathesis.graphql.from_url(f"{base}/graphql", headers=headers)
    failures = []
    operations = [result.ok() for result in schema.get_all_operations() if result.ok().label not in UPLOADS]
    assert len(operations) > 50
    for operation in operations:

        @given(case=operation.as_strategy())
        @BOUNDED
        def probe(case: schemathesis.Case) -> None:
            response = case.call(base_url=base, headers=headers, timeout=30)
            assert response.status_code < 500, response.text[:500]
            codes = {e.get("extensions", {}).get("code") for e in response.json().get("errors") or []}
            assert "INTERNAL_SERVER_ERROR" not in codes, response.text[:1500]

        try:
            probe()
        except Exception as failure:  # noqa: BLE001 - reported with the operation it came from
            failures.append(f"{operation.label}: {str(failure)[:1500]}")
    assert failures == []
