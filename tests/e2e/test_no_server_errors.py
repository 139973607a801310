"""Schemathesis against the plans and dossiers OpenAPI of a real ``cchc run --demo``: whatever the
generated request (a bounded number of examples per operation), the answer is never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.e2e.conftest import admin_headers, cchc_processes

EXAMPLES_PER_OPERATION = 10  # about 45 operations in all: the two tests stay well under 90 s
BOUNDED = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,  # the same requests on every run: a failure is reproducible
    suppress_health_check=list(HealthCheck),
    database=None,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    workdir = Path(tmp_path_factory.mktemp("schemathesis"))
    with cchc_processes(workdir) as start:
        yield start("run", "--demo", probe="/dossiers/readyz"), admin_headers(workdir)


def server_errors(base: str, service: str, headers: dict[str, str]) -> list[str]:
    """Every operation of ``service`` fed generated requests; the failures found, one per operation."""
    schema = schemathesis.openapi.from_url(f"{base}/{service}/openapi.json")
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @BOUNDED
        def probe(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=f"{base}/{service}", headers=headers, checks=[not_a_server_error], timeout=30
            )

        try:
            probe()
        except Exception as failure:  # noqa: BLE001 - reported with the operation it came from
            failures.append(f"{operation.label}: {str(failure)[:1500]}")
    return failures


@pytest.mark.parametrize("service", ["plans", "dossiers"])
def test_no_request_gets_a_server_error(demo: tuple[str, dict[str, str]], service: str) -> None:
    base, headers = demo
    assert server_errors(base, service, headers) == []
