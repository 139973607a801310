"""``cchc run`` (embedded) and ``cchc serve`` (distributed) as an operator starts them."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from services.catalog import SERVICE_NAMES
from services.plans.demo import DEMO_UNITS
from tests.e2e.conftest import cchc_command

INTROSPECTION = "query { __schema { queryType { name } types { name } } }"


def eventually(check, timeout: float = 20.0):
    """Call ``check`` until it returns something truthy (a response: a 2xx) or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        done = result.is_success if isinstance(result, httpx.Response) else bool(result)
        if done or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def test_cchc_run_serves_every_service_and_the_merged_graphql(start_cchc, admin):
    base = start_cchc("run")
    with httpx.Client(base_url=base, timeout=10, headers=admin()) as http:
        for service in SERVICE_NAMES:
            assert http.get(f"/{service}/healthz").json() == {"status": "ok", "service": service}
            ready = http.get(f"/{service}/readyz")
            assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "bus": True}
            assert http.get(f"/{service}/openapi.json").json()["info"]["title"] == f"cchc {service}"
            assert "cchc_outbox_backlog" in http.get(f"/{service}/metrics").text

        schema = http.post("/graphql", json={"query": INTROSPECTION}).json()
        assert "errors" not in schema
        types = {t["name"] for t in schema["data"]["__schema"]["types"]}
        assert {"UnitType", "RecipientType", "ServiceStatus"} <= types
        status = http.post(
            "/graphql", json={"query": "{ dossiersStatus { databaseReachable } scoringStatus { busReachable } }"}
        )
        assert status.json()["data"] == {
            "dossiersStatus": {"databaseReachable": True},
            "scoringStatus": {"busReachable": True},
        }


def test_a_unit_registered_in_plans_reaches_the_notifications_directory(start_cchc, admin):
    base = start_cchc("run")
    with httpx.Client(base_url=base, timeout=10, headers=admin()) as http:
        created = http.put("/plans/v1/units/000.00.12.H42", json={"name": "UBND xã Cẩm Quang", "level": "commune"})
        assert created.status_code == 200, created.text
        recipient = eventually(lambda: http.get("/notifications/v1/recipients/000.00.12.H42"))
        assert recipient.status_code == 200
        assert recipient.json()["name"] == "UBND xã Cẩm Quang"

        renamed = http.put("/plans/v1/units/000.00.12.H42", json={"name": "UBND phường Cẩm Quang", "level": "commune"})
        assert renamed.json()["version"] == 2
        assert eventually(lambda: http.get("/notifications/v1/recipients/000.00.12.H42").json()["source_version"] == 2)
        query = http.post("/graphql", json={"query": "{ recipients { unitCode name } }"}).json()
        assert query["data"]["recipients"] == [{"unitCode": "000.00.12.H42", "name": "UBND phường Cẩm Quang"}]


def test_bad_input_gets_field_level_problem_details(start_cchc, admin):
    base = start_cchc("run")
    with httpx.Client(base_url=base, timeout=10, headers=admin()) as http:
        bad = http.put(
            "/plans/v1/units/000.00.96.H42", json={"name": "", "level": "hamlet"}, headers={"X-Request-ID": "req-42"}
        )
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        assert bad.headers["x-request-id"] == "req-42"
        assert {e["field"] for e in bad.json()["errors"]} == {"body.name", "body.level"}

        orphan = http.put(
            "/plans/v1/units/000.00.96.H42", json={"name": "Xã X", "level": "commune", "parent_code": "000.00.99.H99"}
        )
        assert orphan.status_code == 400
        assert orphan.json()["errors"] == [{"field": "parent_code", "message": "unknown unit code"}]

        missing = http.get("/notifications/v1/recipients/NOPE")
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"

        gql = http.post(
            "/graphql",
            json={"query": 'mutation { upsertUnit(code: "Y", input: {name: "", level: commune}) { code } }'},
        ).json()
        assert gql["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
        assert gql["errors"][0]["extensions"]["errors"][0]["field"] == "name"
        unknown = http.post("/graphql", json={"query": "{ units { nosuchfield } }"}).json()
        assert unknown["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.postgres
@pytest.mark.kafka
def test_distributed_services_on_postgresql_and_kafka_exchange_events(
    start_cchc, postgres_server, kafka_bootstrap, tmp_path
):
    env = {
        "CCHC_BUS": "kafka",
        "CCHC_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CCHC_KAFKA_SESSION_TIMEOUT_MS": "2000",
        "CCHC_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        "CCHC_PLANS_DATABASE_URL": postgres_server.create_database_sync("e2e_plans"),
        "CCHC_NOTIFICATIONS_DATABASE_URL": postgres_server.create_database_sync("e2e_notifications"),
    }
    plans = start_cchc("serve", "plans", "--migrate", env=env, probe="/plans/readyz")
    notifications = start_cchc("serve", "notifications", "--migrate", env=env, probe="/notifications/readyz")
    assert httpx.get(f"{plans}/plans/v1/units").status_code == 401

    # a key made by the CLI in the owner's database reaches both services through the relay and Kafka
    key = cchc_command(tmp_path, "keys", "create", "--role", "admin", "--name", "e2e", env=env).splitlines()[-1]
    committed = time.monotonic()  # the CLI process's own start-up is not the services' delay
    auth = {"Authorization": f"Bearer {key}"}
    for url in (f"{plans}/plans/v1/units", f"{notifications}/notifications/v1/recipients"):
        assert eventually(lambda url=url: httpx.get(url, headers=auth), timeout=5).status_code == 200
    assert time.monotonic() - committed < 5

    assert (
        httpx.put(
            f"{plans}/plans/v1/units/000.00.00.H42",
            json={"name": "UBND tỉnh Hà Tĩnh", "level": "province"},
            headers=auth,
        ).status_code
        == 200
    )
    recipient = eventually(
        lambda: httpx.get(f"{notifications}/notifications/v1/recipients/000.00.00.H42", headers=auth), timeout=30
    )
    assert recipient.status_code == 200 and recipient.json()["level"] == "province"
    assert httpx.get(f"{plans}/notifications/healthz", headers=auth).status_code == 404, "a served service runs alone"

    key_id = key.split("_")[1]
    cchc_command(tmp_path, "keys", "revoke", key_id, env=env)
    revoked = time.monotonic()
    for url in (f"{plans}/plans/v1/units", f"{notifications}/notifications/v1/recipients"):
        assert eventually(lambda url=url: httpx.get(url, headers=auth).status_code == 401, timeout=5)
    assert time.monotonic() - revoked < 5


def test_demo_mode_loads_the_seed_units_and_they_reach_every_consumer(start_cchc, admin):
    base = start_cchc("run", "--demo")
    with httpx.Client(base_url=base, timeout=10, headers=admin()) as http:
        units = http.get("/plans/v1/units", params={"parent_code": "000.00.10.H42"}).json()["items"]
        demo = json.loads(DEMO_UNITS.read_text(encoding="utf-8"))
        assert {u["name"] for u in units} == {u["name"] for u in demo if u.get("parent_code") == "000.00.10.H42"}
        assert {"Phòng Nội vụ huyện Cẩm Xuyên", "UBND xã Cẩm Quang"} <= {u["name"] for u in units}
        total = len(http.get("/plans/v1/units", params={"limit": 500}).json()["items"])
        assert eventually(
            lambda: len(http.get("/notifications/v1/recipients", params={"limit": 500}).json()["items"]) == total
        )


def test_the_first_run_makes_an_admin_key_and_keys_made_by_the_cli_work_within_seconds(start_cchc, tmp_path):
    base = start_cchc("run")
    key_file = tmp_path / "var" / "admin.key"
    admin_key = key_file.read_text().strip()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert admin_key in (tmp_path / f"cchc-{base.rsplit(':', 1)[1]}.log").read_text(), "printed once at first run"
    assert httpx.get(f"{base}/plans/v1/units").status_code == 401
    assert httpx.get(f"{base}/plans/v1/units", headers={"Authorization": f"Bearer {admin_key}"}).status_code == 200

    key = cchc_command(tmp_path, "keys", "create", "--role", "viewer", "--expires", "2030-12-31").splitlines()[-1]
    committed = time.monotonic()  # the CLI process's own start-up is not the services' delay
    auth = {"Authorization": f"Bearer {key}"}
    assert eventually(lambda: httpx.get(f"{base}/scoring/v1/catalogue", headers=auth), timeout=5).status_code == 200
    assert time.monotonic() - committed < 5
    assert httpx.put(f"{base}/plans/v1/units/000.00.12.H42", json={}, headers=auth).status_code == 403

    listed = [json.loads(line) for line in cchc_command(tmp_path, "keys", "list").splitlines()]
    assert [k["role"] for k in listed] == ["admin", "viewer"] and all("key" not in k for k in listed)
    cchc_command(tmp_path, "keys", "revoke", listed[1]["prefix"])
    revoked = time.monotonic()
    assert eventually(lambda: httpx.get(f"{base}/scoring/v1/catalogue", headers=auth).status_code == 401, timeout=5)
    assert time.monotonic() - revoked < 5

    again = start_cchc("run")  # a later run (same data dir) keeps the first key and makes none
    assert key_file.read_text().strip() == admin_key
    assert httpx.get(f"{again}/plans/v1/units", headers={"Authorization": f"Bearer {admin_key}"}).status_code == 200
    assert len(cchc_command(tmp_path, "keys", "list").splitlines()) == 2
