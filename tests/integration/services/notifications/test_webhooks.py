"""Webhooks to a real receiver on loopback that verifies Standard Webhooks signatures."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from services.notifications.webhooks.models import WebhookEndpoint
from tests.support.notifications import UNIT, Receiver, eventually, lateness

FAST = {"notifications_webhook_retry_schedule": [0.05, 0.1, 0.1]}  # 4 attempts, in a fraction of a second
OVERDUE = "vn.cchc.dossier.overdue.v1"


async def subscribe(service, url: str, types: list[str] | None = None) -> dict:
    answer = await service.http.post("/notifications/v1/webhooks", json={"url": url, "event_types": types or ["*"]})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def deliveries(service, endpoint_id: str, **params) -> list[dict]:
    answer = await service.http.get(f"/notifications/v1/webhooks/{endpoint_id}/deliveries", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def delivery(service, endpoint_id: str, delivery_id: int) -> dict:
    return (await service.http.get(f"/notifications/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}")).json()


async def endpoint(service, endpoint_id: str) -> dict:
    return (await service.http.get(f"/notifications/v1/webhooks/{endpoint_id}")).json()


def verified(secret: str, request) -> dict:
    return Webhook(secret).verify(request.body, request.headers)


async def test_create_answers_201_with_id_and_a_secret_shown_once(start_notifications, serve):
    service = await start_notifications()
    url = await serve(Receiver())
    created = await subscribe(service, f"{url}/hooks", [OVERDUE])
    assert created["id"].startswith("ep_") and created["secret"].startswith("whsec_")
    assert created["event_types"] == [OVERDUE] and created["enabled"] is True
    shown = await endpoint(service, created["id"])
    assert "secret" not in shown and shown["url"] == f"{url}/hooks"
    listed = (await service.http.get("/notifications/v1/webhooks")).json()["items"]
    assert [e["id"] for e in listed] == [created["id"]] and "secret" not in listed[0]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"url": "ftp://partner.example.vn/in", "event_types": ["*"]}, "body.url", "http or https"),
        ({"url": "not a url", "event_types": ["*"]}, "body.url", "http or https"),
        (
            {"url": "http://169.254.169.254/latest/meta-data", "event_types": ["*"]},
            "body.url",
            "link-local or metadata",
        ),
        ({"url": "http://[fe80::1]/hook", "event_types": ["*"]}, "body.url", "link-local or metadata"),
        (
            {"url": "http://127.0.0.1:9/hook", "event_types": ["vn.cchc.dossier.lost.v1"]},
            "body.event_types",
            "unknown event type",
        ),
        ({"url": "http://127.0.0.1:9/hook", "event_types": ["*", OVERDUE]}, "body.event_types", "alone"),
        ({"url": "http://127.0.0.1:9/hook", "event_types": []}, "body.event_types", "at least 1"),
    ],
)
async def test_an_invalid_url_or_event_type_is_a_422_field_error_and_saves_nothing(
    start_notifications, body, field, words
):
    service = await start_notifications()
    answer = await service.http.post("/notifications/v1/webhooks", json=body)
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    [error] = answer.json()["errors"]
    assert error["field"] == field and words in error["message"]
    assert (await service.http.get("/notifications/v1/webhooks")).json() == {"items": []}


async def test_the_allow_list_lets_a_metadata_address_through(start_notifications):
    service = await start_notifications(notifications_webhook_allowed_hosts=["169.254.169.254"])
    answer = await service.http.post(
        "/notifications/v1/webhooks", json={"url": "http://169.254.169.254/hook", "event_types": ["*"]}
    )
    assert answer.status_code == 201


async def test_graphql_create_refuses_as_rest_does_and_creates_with_a_secret(start_notifications, serve):
    service = await start_notifications()
    mutation = "mutation($u: String!, $t: [String!]!) { createWebhook(url: $u, eventTypes: $t) { secret endpoint { id eventTypes } } }"
    refused = await service.graphql(mutation, u="http://169.254.169.254/x", t=["*"])
    assert refused["errors"][0]["extensions"]["errors"][0]["field"] == "body.url"
    unknown = await service.graphql(mutation, u="http://127.0.0.1:9/x", t=["vn.cchc.nothing.v1"])
    assert unknown["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    created = await service.graphql(mutation, u=f"{await serve(Receiver())}/x", t=[OVERDUE])
    assert created["data"]["createWebhook"]["secret"].startswith("whsec_")
    listed = await service.graphql("{ webhookEndpoints { id eventTypes enabled } }")
    assert listed["data"]["webhookEndpoints"] == [{**created["data"]["createWebhook"]["endpoint"], "enabled": True}]


async def test_an_event_is_signed_retried_after_failures_and_logged_until_it_succeeds(start_notifications, serve):
    receiver = Receiver((500, {}, b"down"), (503, {}, b"x" * 5000), (200, {}, b"thanks"))
    service = await start_notifications(schedulers=True, **FAST)
    hook = await subscribe(service, f"{await serve(receiver)}/cchc")
    await service.register_unit()  # unit.upserted from plans, through the consumer
    await receiver.wait_for(3)

    bodies = [verified(hook["secret"], r) for r in receiver.requests]  # raises unless each signature is right
    assert all(b == bodies[0] for b in bodies)
    assert bodies[0]["type"] == "vn.cchc.unit.upserted.v1" and bodies[0]["data"]["code"] == UNIT
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # one message, three attempts
    assert receiver.requests[1].at - receiver.requests[0].at >= timedelta(seconds=0.05)  # the first retry delay

    [sent] = await eventually(lambda: _settled(service, hook["id"]))
    assert (sent["status"], sent["attempts"], sent["last_status_code"]) == ("succeeded", 3, 200)
    log = (await delivery(service, hook["id"], sent["id"]))["attempt_log"]
    assert [(a["number"], a["status_code"], a["outcome"]) for a in log] == [
        (1, 500, "retry"),
        (2, 503, "retry"),
        (3, 200, "succeeded"),
    ]
    assert log[0]["response"] == "down" and len(log[1]["response"]) == 2048 and log[2]["response"] == "thanks"


async def _settled(service, endpoint_id):
    items = await deliveries(service, endpoint_id)
    return items if items and all(d["status"] in ("succeeded", "failed") for d in items) else None


async def test_filters_send_only_the_types_an_endpoint_asked_for(start_notifications, serve):
    everything, overdue_only = Receiver(), Receiver()
    service = await start_notifications(schedulers=True, **FAST)
    await subscribe(service, f"{await serve(everything)}/all", ["*"])
    await subscribe(service, f"{await serve(overdue_only)}/overdue", [OVERDUE])
    await service.register_unit()
    data = lateness("000.00.12.H42-250303-0001", UNIT, "2025-03-03T10:00:00+07:00")
    await service.deliver("cchc.dossiers", OVERDUE, data["ma_ho_so"], data)
    await everything.wait_for(2)
    await overdue_only.wait_for(1)
    assert sorted(json.loads(r.body)["type"] for r in everything.requests) == [OVERDUE, "vn.cchc.unit.upserted.v1"]
    assert [json.loads(r.body)["type"] for r in overdue_only.requests] == [OVERDUE]
    body = json.loads(overdue_only.requests[0].body)  # instants in Vietnam time, as every API writes them
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+07:00$", body["timestamp"]), body["timestamp"]


async def test_an_endpoint_is_disabled_once_the_schedule_ran_out_for_enough_messages_then_redelivered(
    start_notifications, serve
):
    receiver = Receiver((500, {}, b"down"))
    service = await start_notifications(schedulers=True, notifications_webhook_disable_after=2, **FAST)
    hook = await subscribe(service, f"{await serve(receiver)}/cchc")
    await service.register_unit("000.00.12.H42")
    await eventually(lambda: _settled(service, hook["id"]))
    assert (await endpoint(service, hook["id"]))["enabled"] is True  # one message exhausted: not yet
    await service.register_unit("000.00.13.H42")
    await eventually(lambda: _disabled(service, hook["id"]))
    assert len(receiver.requests) == 8  # two messages, 1 + 3 retries each
    failed = await deliveries(service, hook["id"], status="failed")
    assert len(failed) == 2 and all(d["attempts"] == 4 for d in failed)

    await service.register_unit("000.00.14.H42")  # a disabled endpoint gets nothing new
    assert len(await deliveries(service, hook["id"])) == 2
    refused = await service.http.post(f"/notifications/v1/webhooks/{hook['id']}/deliveries/{failed[0]['id']}:redeliver")
    assert refused.status_code == 409

    receiver.script = [(204, {}, b"")]
    enabled = await service.http.patch(f"/notifications/v1/webhooks/{hook['id']}", json={"enabled": True})
    assert enabled.json()["enabled"] is True and enabled.json()["exhausted_in_a_row"] == 0
    again = await service.http.post(f"/notifications/v1/webhooks/{hook['id']}/deliveries/{failed[0]['id']}:redeliver")
    assert again.status_code == 202 and again.json()["status"] == "queued"
    await receiver.wait_for(9)
    redone = await eventually(lambda: _status(service, hook["id"], failed[0]["id"], "succeeded"))
    assert [a["outcome"] for a in redone["attempt_log"]] == ["retry", "retry", "retry", "failed", "succeeded"]
    assert len(receiver.requests) == 9  # only the one redelivered went again


async def _disabled(service, endpoint_id):
    shown = await endpoint(service, endpoint_id)
    return shown if not shown["enabled"] else None


async def _status(service, endpoint_id, delivery_id, status):
    one = await delivery(service, endpoint_id, delivery_id)
    return one if one["status"] == status else None


async def test_a_rotated_secret_signs_next_to_the_old_one_during_the_overlap(start_notifications, serve):
    receiver = Receiver()
    service = await start_notifications(schedulers=True, **FAST)
    hook = await subscribe(service, f"{await serve(receiver)}/cchc")
    rotated = (await service.http.post(f"/notifications/v1/webhooks/{hook['id']}/secret:rotate")).json()
    assert rotated["secret"] != hook["secret"] and rotated["previous_secret_until"] is not None
    ping = await service.http.post(f"/notifications/v1/webhooks/{hook['id']}:test")
    assert ping.status_code == 202
    await receiver.wait_for(1)
    request = receiver.requests[0]
    assert verified(rotated["secret"], request)["type"] == "vn.cchc.webhook.test.v1"
    assert verified(hook["secret"], request)["data"] == {"endpoint_id": hook["id"]}  # the old secret still verifies


async def test_without_overlap_the_old_secret_no_longer_verifies(start_notifications, serve):
    receiver = Receiver()
    service = await start_notifications(schedulers=True, notifications_webhook_secret_overlap_hours=0, **FAST)
    hook = await subscribe(service, f"{await serve(receiver)}/cchc")
    rotated = (await service.http.post(f"/notifications/v1/webhooks/{hook['id']}/secret:rotate")).json()
    await service.http.post(f"/notifications/v1/webhooks/{hook['id']}:test")
    await receiver.wait_for(1)
    assert verified(rotated["secret"], receiver.requests[0])
    with pytest.raises(WebhookVerificationError):
        verified(hook["secret"], receiver.requests[0])


async def test_a_receiver_that_is_gone_is_logged_with_the_error(start_notifications):
    service = await start_notifications(schedulers=True, notifications_webhook_retry_schedule=[])
    hook = await subscribe(service, "http://127.0.0.1:9/nobody")  # the discard port: refused
    ping = (await service.http.post(f"/notifications/v1/webhooks/{hook['id']}:test")).json()
    done = await eventually(lambda: _status(service, hook["id"], ping["id"], "failed"))
    [attempt] = done["attempt_log"]
    assert attempt["status_code"] is None and "Cannot connect to host 127.0.0.1:9" in attempt["error"]


async def test_unknown_endpoints_and_deliveries_are_404(start_notifications):
    service = await start_notifications()
    assert (await service.http.get("/notifications/v1/webhooks/ep_none")).status_code == 404
    assert (await service.http.post("/notifications/v1/webhooks/ep_none:test")).status_code == 404
    assert (await service.http.get("/notifications/v1/webhooks/ep_none/deliveries/1")).status_code == 404


async def test_graphql_pings_and_lists_deliveries_with_their_attempts(start_notifications, serve):
    receiver = Receiver((500, {}, b"busy"), (200, {}, b"ok"))
    service = await start_notifications(schedulers=True, **FAST)
    hook = await subscribe(service, f"{await serve(receiver)}/cchc")
    ping = await service.graphql(
        "mutation($id: String!) { testWebhook(id: $id) { id eventType status } }", id=hook["id"]
    )
    delivery = ping["data"]["testWebhook"]
    assert (delivery["eventType"], delivery["status"]) == ("vn.cchc.webhook.test.v1", "queued")
    await receiver.wait_for(2)
    await eventually(lambda: _status(service, hook["id"], delivery["id"], "succeeded"))
    listed = await service.graphql(
        "query($id: String!, $d: Int!) { webhookDeliveries(endpointId: $id) { id status attempts }"
        " webhookAttempts(endpointId: $id, deliveryId: $d) { statusCode outcome response } }",
        id=hook["id"],
        d=delivery["id"],
    )
    assert listed["data"]["webhookDeliveries"] == [{"id": delivery["id"], "status": "succeeded", "attempts": 2}]
    assert listed["data"]["webhookAttempts"] == [
        {"statusCode": 500, "outcome": "retry", "response": "busy"},
        {"statusCode": 200, "outcome": "succeeded", "response": "ok"},
    ]
    missing = await service.graphql('mutation { testWebhook(id: "ep_none") { id } }')
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_url_that_now_resolves_to_a_metadata_address_is_not_called(start_notifications, serve):
    receiver = Receiver()
    service = await start_notifications(schedulers=True, notifications_webhook_retry_schedule=[])
    hook = await subscribe(service, f"{await serve(receiver)}/cchc")
    async with service.context.uow() as uow:  # as if its name resolved elsewhere since it was saved
        endpoint = await uow.session.get(WebhookEndpoint, hook["id"])
        endpoint.url = "http://169.254.169.254/latest/meta-data"
        await uow.commit()
    ping = (await service.http.post(f"/notifications/v1/webhooks/{hook['id']}:test")).json()
    done = await eventually(lambda: _status(service, hook["id"], ping["id"], "failed"))
    assert "link-local or metadata" in done["attempt_log"][0]["error"] and receiver.requests == []


async def test_a_redirect_is_logged_as_the_answer_and_not_followed(start_notifications, serve):
    elsewhere = Receiver()
    service = await start_notifications(schedulers=True, notifications_webhook_retry_schedule=[])
    moved = Receiver((307, {"location": f"{await serve(elsewhere)}/other"}, b""))
    hook = await subscribe(service, f"{await serve(moved)}/cchc")
    ping = (await service.http.post(f"/notifications/v1/webhooks/{hook['id']}:test")).json()
    done = await eventually(lambda: _status(service, hook["id"], ping["id"], "failed"))
    assert [a["status_code"] for a in done["attempt_log"]] == [307]
    assert len(moved.requests) == 1 and elsewhere.requests == []


async def test_a_receiver_slower_than_the_timeout_is_logged_as_a_timeout(start_notifications, serve):
    slow = Receiver()
    slow.delay = 3.0  # the timeout is long enough for the request to arrive on a loaded machine
    service = await start_notifications(
        schedulers=True, notifications_webhook_retry_schedule=[], notifications_webhook_timeout=1.5
    )
    hook = await subscribe(service, f"{await serve(slow)}/cchc")
    ping = (await service.http.post(f"/notifications/v1/webhooks/{hook['id']}:test")).json()
    done = await eventually(lambda: _status(service, hook["id"], ping["id"], "failed"))
    [attempt] = done["attempt_log"]
    assert attempt["status_code"] is None and attempt["error"] == "Timeout: no answer within 1.5 s"
    assert len(slow.requests) == 1  # it was called: the timeout, not a refusal, ended it


async def test_the_api_key_events_reach_the_replica_but_no_webhook(start_notifications, serve):
    service = await start_notifications(schedulers=True, **FAST)
    receiver = Receiver()
    created = await subscribe(service, f"{await serve(receiver)}/hooks")
    key = {
        "id": "0123456789ab",
        "name": "một cửa",
        "role": "integration",
        "unit": None,
        "key_hash": "0" * 64,
        "created_at": "2024-04-15T01:00:00+00:00",
        "expires_at": None,
        "revoked_at": None,
        "version": 1,
    }
    await service.deliver("cchc.plans", "vn.cchc.api_key.created.v1", key["id"], key)
    await service.register_unit()  # the positive control: an event a "*" endpoint gets
    await receiver.wait_for(1)
    assert [json.loads(r.body)["type"] for r in receiver.requests] == ["vn.cchc.unit.upserted.v1"]
    table = service.context.definition.tables.api_keys
    async with service.context.db.session() as session:
        assert (
            await session.scalar(table.select().with_only_columns(table.c.name).where(table.c.id == key["id"]))
            == "một cửa"
        )
    refused = await service.http.patch(
        f"/notifications/v1/webhooks/{created['id']}", json={"event_types": ["vn.cchc.api_key.created.v1"]}
    )
    assert refused.status_code == 422
