"""Each service's settings live in its own class; a process composes them, and every ``CCHC_*``
variable partners and operators deploy with is still read under the same name."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.catalog import SERVICE_NAMES, definitions, settings_class
from services.dossiers.settings import DossiersSettings
from services.plans.settings import PlansSettings
from shared.runtime import Runtime
from shared.settings import Settings, compose

ROOT = Path(__file__).parents[3]
# where variables are documented or deployed with: the guides, the deploy manifests, compose, make
DOCUMENTS = [ROOT / "README.md", ROOT / "docker-compose.yml", ROOT / "Makefile"]
DOCUMENTS += sorted((ROOT / "docs").glob("*.md")) + sorted(p for p in (ROOT / "deploy").rglob("*") if p.is_file())
# CCHC_ names that are no setting of a cchc process: the test plugins' switches and compose's password
NOT_SETTINGS = {
    "CCHC_CHROMIUM",
    "CCHC_PG_BINDIR",
    "CCHC_REQUIRE_KAFKA",
    "CCHC_REQUIRE_POSTGRES",
    "CCHC_POSTGRES_PASSWORD",
}


def documented() -> set[str]:
    names = {name for path in DOCUMENTS for name in re.findall(r"CCHC_[A-Z0-9_]+", path.read_text())}
    return {name for name in names if not name.endswith("_")} - NOT_SETTINGS  # CCHC_AUTH_JWT_*: a family


def sample(default: object) -> str:
    """A valid value, in environment form, for a field whose default is ``default``."""
    if default is None:
        return "x"
    if isinstance(default, list | dict):
        return json.dumps(default)
    return str(default)


def test_every_documented_variable_is_read_by_the_process(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env file
    process = settings_class()
    names = documented()
    assert {"CCHC_BUS", "CCHC_DOSSIERS_PULL_URL", "CCHC_PLANS_REMINDER_HOUR", "CCHC_SCORING_DATABASE_URL"} <= names
    unknown = sorted(name for name in names if name.removeprefix("CCHC_").lower() not in process.model_fields)
    assert unknown == [], f"documented but read by no settings class: {unknown}"
    for name in names:
        monkeypatch.setenv(name, sample(process.model_fields[name.removeprefix("CCHC_").lower()].default))
    read = process().model_fields_set
    assert sorted(name for name in names if name.removeprefix("CCHC_").lower() not in read) == []


def test_every_setting_is_documented_in_the_guides():
    guide = (ROOT / "docs" / "operations.md").read_text() + (ROOT / "docs" / "security.md").read_text()
    missing = [
        f"CCHC_{field.upper()}" for field in settings_class().model_fields if f"`CCHC_{field.upper()}`" not in guide
    ]
    assert missing == []


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_a_service_declares_its_own_settings_and_the_kernel_none_of_them(name):
    (definition,) = definitions([name])
    assert definition.settings.__module__ == f"services.{name}.settings"
    own = set(definition.settings.model_fields) - set(Settings.model_fields)
    assert f"{name}_database_url" in own and all(field.startswith(f"{name}_") for field in own)
    assert not any(field.startswith(tuple(f"{s}_" for s in SERVICE_NAMES)) for field in Settings.model_fields)


def test_a_process_reads_the_variables_of_each_service_it_runs(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CCHC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CCHC_PLANS_DATABASE_URL", "postgresql+asyncpg://cchc:s3cret@db/plans")
    monkeypatch.setenv("CCHC_PLANS_REMINDER_OFFSETS", "[1, 3, 3]")
    monkeypatch.setenv("CCHC_DOSSIERS_PULL_PAGE_SIZE", "40")
    monkeypatch.setenv("CCHC_NOTIFICATIONS_DIGEST_HOUR", "6")
    settings = settings_class()()
    assert settings.database_url("plans") == "postgresql+asyncpg://cchc:s3cret@db/plans"
    assert settings.database_url("dossiers") == f"sqlite+aiosqlite:///{tmp_path / 'dossiers.db'}"
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings.model_dump())
    assert PlansSettings.of(settings).plans_reminder_offsets == [3, 1]  # the service's own validator ran
    assert DossiersSettings.of(settings).dossiers_pull_page_size == 40
    assert settings.model_dump()["notifications_digest_hour"] == 6


def test_a_bad_value_of_a_service_variable_is_refused_by_name(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CCHC_PLANS_REMINDER_OFFSETS", "[0]")
    with pytest.raises(ValidationError, match="plans_reminder_offsets"):
        settings_class()()


def test_a_class_another_already_inherits_counts_once():
    assert compose(Settings, PlansSettings) is PlansSettings
    assert compose() is Settings
    assert issubclass(settings_class(["plans", "dossiers"]), PlansSettings)


def test_a_runtime_refuses_settings_lacking_a_service_class(tmp_path):
    with pytest.raises(TypeError, match="DossiersSettings"):
        Runtime(definitions(["plans", "dossiers"]), PlansSettings(data_dir=tmp_path))
    with pytest.raises(TypeError, match="DossiersSettings"):
        DossiersSettings.of(PlansSettings(data_dir=tmp_path))
    assert Runtime(definitions(["plans"]), PlansSettings(data_dir=tmp_path))["plans"].settings.data_dir == tmp_path


@pytest.mark.parametrize(
    ("setting", "embedded", "loop"),
    [("auto", True, "asyncio"), ("auto", False, "uvloop"), ("uvloop", True, "uvloop"), ("asyncio", False, "asyncio")],
)
def test_the_event_loop_is_the_standard_one_for_the_embedded_process_unless_set(
    setting: str, embedded: bool, loop: str
) -> None:
    from services.cli import _server_options

    assert _server_options(Settings(event_loop=setting), embedded=embedded)["loop"] == loop
