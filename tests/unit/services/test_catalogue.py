"""The events catalogue in docs/ is the one the code generates."""

from __future__ import annotations

import json
from pathlib import Path

from services.cli import catalogue_text

DOCS = Path(__file__).parents[3] / "docs" / "asyncapi.json"


def test_the_committed_catalogue_is_current():
    assert DOCS.read_text(encoding="utf-8") == catalogue_text(), "run `make catalogue` and commit docs/asyncapi.json"


def test_the_catalogue_documents_each_event_with_its_topic_and_payload():
    document = json.loads(catalogue_text())
    message = document["components"]["messages"]["UnitUpserted"]
    assert message["name"] == "vn.cchc.unit.upserted.v1"
    assert "UnitUpserted" in document["channels"]["cchc.plans"]["messages"]
    fields = document["components"]["schemas"]["UnitUpserted"]["properties"]
    assert {"code", "name", "aliases", "level", "parent_code", "valid_from", "valid_to"} <= set(fields)
    assert not any(m["name"].startswith("vn.cchc.probe") for m in document["components"]["messages"].values())
