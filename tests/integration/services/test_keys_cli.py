"""``cchc keys create|list|revoke`` against an embedded data directory."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from services import cli


def keys(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = cli.main(["keys", *args, "--data-dir", str(data_dir)])
    out, err = capsys.readouterr()
    return status, out, err


def test_a_key_is_printed_alone_on_the_last_line_listed_without_it_and_revoked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = keys(
        capsys, tmp_path, "create", "--role", "integration", "--name", "một cửa", "--expires", "2030-06-30"
    )
    key = out.splitlines()[-1]
    assert status == 0 and key.startswith("cchc_") and len(key.split("_")[2]) == 43

    _, out, _ = keys(capsys, tmp_path, "list")
    [listed] = [json.loads(line) for line in out.splitlines()]
    assert listed["name"] == "một cửa" and listed["role"] == "integration" and key not in out
    assert key.startswith(listed["prefix"] + "_")
    assert listed["expires_at"] == "2030-07-01T00:00:00+07:00"  # through 30 June, Vietnam time

    status, out, _ = keys(capsys, tmp_path, "revoke", listed["prefix"])
    assert status == 0 and json.loads(out)["revoked_at"] is not None

    with sqlite3.connect(tmp_path / "plans.db") as plans:  # the plans service's audit log, as the CLI wrote it
        logged = plans.execute("SELECT action, object_id, actor, key_id, changes FROM audit_log ORDER BY id").fetchall()
    assert [row[:4] for row in logged] == [
        ("api_key.created", listed["id"], "cli", None),
        ("api_key.revoked", listed["id"], "cli", None),
    ]
    assert key.split("_")[2] not in str(logged)


def test_on_a_fresh_data_directory_a_command_writes_its_answer_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = keys(capsys, tmp_path, "list")  # the first command migrates the plans database
    assert status == 0 and out == "" and err == ""  # no key yet; none of Alembic's INFO lines

    status, out, err = keys(capsys, tmp_path, "create", "--role", "viewer", "--name", "tra cứu")
    [details] = [json.loads(line) for line in err.splitlines()]  # the key's details, and nothing else
    assert status == 0 and details["name"] == "tra cứu" and out.strip().startswith("cchc_")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "--role", "viewer", "--unit", "000.00.99.H99"], "cchc keys: unit: no unit has this code"),
        (["create", "--role", "viewer", "--unit", "H42"], "cchc keys: unit: String should match pattern"),
        (["create", "--role", "viewer", "--expires", "2020-01-01"], "cchc keys: expires_at: must lie in the future"),
        (["revoke", "0123456789ab"], "cchc keys: No API key has this id."),
    ],
)
def test_a_refused_command_says_why_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    status, out, err = keys(capsys, tmp_path, *args)
    assert status == 2 and out == "" and message in err
