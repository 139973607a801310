"""Schemathesis against the OpenAPI of every service of a real ``cchc run --demo``: whatever the
generated request (a bounded number of examples per operation), the answer is never a 5xx, and it
is what the OpenAPI says it can be: a declared status, a declared media type, a body that matches
the declared schema (problem+json for every refusal, instants in Vietnam time)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import cchc_processes

EXAMPLES_PER_OPERATION = 10  # about 95 operations in all: the four tests stay well under 3 minutes
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
BOUNDED = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,  # the same requests on every run: a failure is reproducible
    suppress_health_check=list(HealthCheck),
    database=None,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with cchc_processes(Path(tmp_path_factory.mktemp("schemathesis"))) as start:
        yield start("run", "--demo", probe="/dossiers/readyz")


def failures_of(base: str, service: str) -> list[str]:
    """Every operation of ``service`` fed generated requests; the failures found, one per operation."""
    schema = schemathesis.openapi.from_url(f"{base}/{service}/openapi.json")
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 5
    for operation in operations:

        @given(case=operation.as_strategy())
        @BOUNDED
        def probe(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=f"{base}/{service}", checks=CHECKS, timeout=30)

        try:
            probe()
        except Exception as failure:  # noqa: BLE001 - reported with the operation it came from
            failures.append(f"{operation.label}: {str(failure)[:1500]}")
    return failures


@pytest.mark.parametrize("service", ["plans", "dossiers", "scoring", "notifications"])
def test_every_answer_is_what_the_openapi_declares(demo: str, service: str) -> None:
    assert failures_of(demo, service) == []
