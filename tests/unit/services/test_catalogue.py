"""The events catalogue in docs/ is the one the code generates, and it declares every instant in Vietnam time."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services import cli
from services.cli import catalogue_text
from services.plans.events import ApiKeyCreated, TaskWithdrawn

DOCS = Path(__file__).parents[3] / "docs" / "asyncapi.json"


def test_the_committed_catalogue_is_current():
    assert DOCS.read_text(encoding="utf-8") == catalogue_text(), "run `make catalogue` and commit docs/asyncapi.json"


def test_the_command_prints_the_catalogue_or_writes_the_file_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(tmp_path)  # nothing is written where the command happens to run
    assert cli.main(["catalogue"]) == 0
    assert capsys.readouterr().out == catalogue_text() and list(tmp_path.iterdir()) == []

    assert cli.main(["catalogue", "--output", "out/asyncapi.json"]) == 0
    assert (tmp_path / "out" / "asyncapi.json").read_text(encoding="utf-8") == catalogue_text()


def test_the_catalogue_documents_each_event_with_its_topic_and_payload():
    document = json.loads(catalogue_text())
    message = document["components"]["messages"]["UnitUpserted"]
    assert message["name"] == "vn.cchc.unit.upserted.v1"
    assert "UnitUpserted" in document["channels"]["cchc.plans"]["messages"]
    fields = document["components"]["schemas"]["UnitUpserted"]["properties"]
    assert {"code", "name", "aliases", "level", "parent_code", "valid_from", "valid_to"} <= set(fields)
    assert not any(m["name"].startswith("vn.cchc.probe") for m in document["components"]["messages"].values())


def date_times(node: object, path: str = "") -> list[tuple[str, dict]]:
    """Every ``date-time`` schema under ``node``, with where it is."""
    found = []
    if isinstance(node, dict):
        if node.get("format") == "date-time":
            found.append((path, node))
        for key, value in node.items():
            found += date_times(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += date_times(value, f"{path}/{index}")
    return found


def test_every_instant_an_event_carries_is_declared_in_vietnam_time():
    """The payloads write instants as REST and GraphQL do (ISO 8601, +07:00), and the catalogue says so."""
    schemas = json.loads(catalogue_text())["components"]["schemas"]
    written = date_times(schemas)
    assert any(path.startswith("/DossierOverdue/") for path, _ in written)  # a positive control
    assert [path for path, schema in written if not schema.get("pattern", "").endswith(r"\+07:00$")] == []


def test_plans_events_write_their_instants_in_vietnam_time():
    utc = datetime(2024, 4, 15, 2, 15, tzinfo=UTC)  # what the system clock and the databases give
    withdrawn = TaskWithdrawn(
        obligation_id=1, task_id=2, plan_id=3, unit_code="000.00.12.H42", role="lead", reason="task_removed",
        withdrawn_at=utc, open_occurrence_ids=[],
    )  # fmt: skip
    assert withdrawn.payload()["withdrawn_at"] == "2024-04-15T09:15:00+07:00"
    key = ApiKeyCreated(
        id="k", name="n", role="viewer", unit=None, key_hash="h", created_at=utc, expires_at=utc, revoked_at=None,
        version=1,
    )  # fmt: skip
    assert key.payload()["created_at"] == key.payload()["expires_at"] == "2024-04-15T09:15:00+07:00"
    assert ApiKeyCreated.model_validate(key.payload()).created_at == utc  # replicas read it back as the same instant
