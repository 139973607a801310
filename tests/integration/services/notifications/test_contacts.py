"""The people and addresses of a unit: an admin API on top of the unit directory."""

from __future__ import annotations

import pytest

from tests.support.notifications import UNIT

CONTACTS = f"/notifications/v1/recipients/{UNIT}/contacts"


async def test_a_person_is_added_with_normalised_addresses_and_default_channels(start_notifications):
    service = await start_notifications()
    await service.register_unit()
    answer = await service.http.post(
        CONTACTS,
        json={"name": "Trần Thị Bình", "role": "Văn phòng", "phone": "091 234 5678", "email": "binh@camquang.gov.vn"},
    )
    assert answer.status_code == 201, answer.text
    person = answer.json()
    assert (person["phone"], person["channels"], person["digest"]) == ("+84912345678", ["email", "sms", "zalo"], False)
    assert (await service.http.get(CONTACTS)).json()["items"] == [person]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "A", "phone": "0212 345 678"}, "body.phone"),  # a landline
        ({"name": "A", "phone": "091234567"}, "body.phone"),  # nine digits
        ({"name": "A", "phone": "+1 202 555 0100"}, "body.phone"),
        ({"name": "A", "zalo_phone": "0112345678"}, "body.zalo_phone"),
        ({"name": "A", "email": "binh@"}, "body.email"),
        ({"name": "A", "email": "binh@camquang.gov.vn", "channels": ["sms"]}, "body"),  # no phone for SMS
        ({"name": "", "email": "binh@camquang.gov.vn"}, "body.name"),
    ],
)
async def test_a_malformed_phone_or_email_is_a_422_and_the_directory_is_unchanged(start_notifications, body, field):
    service = await start_notifications()
    await service.register_unit()
    kept = (await service.http.post(CONTACTS, json={"name": "Lê Văn Cường", "phone": "+84 387 123 456"})).json()
    answer = await service.http.post(CONTACTS, json=body)
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    replaced = await service.http.put(f"{CONTACTS}/{kept['id']}", json=body)
    assert replaced.status_code == 422
    assert (await service.http.get(CONTACTS)).json()["items"] == [kept]


async def test_unknown_units_and_contacts_are_404_and_a_contact_can_be_replaced_and_removed(start_notifications):
    service = await start_notifications()
    assert (
        await service.http.post("/notifications/v1/recipients/999.99/contacts", json={"name": "A", "email": "a@b.vn"})
    ).status_code == 404
    await service.register_unit()
    person = (await service.http.post(CONTACTS, json={"name": "A", "email": "a@b.vn"})).json()
    replaced = await service.http.put(
        f"{CONTACTS}/{person['id']}", json={"name": "A", "phone": "0987654321", "digest": True}
    )
    assert (
        replaced.status_code == 200
        and replaced.json()["channels"] == ["sms", "zalo"]
        and replaced.json()["digest"] is True
    )
    assert (await service.http.delete(f"{CONTACTS}/{person['id']}")).status_code == 204
    assert (await service.http.delete(f"{CONTACTS}/{person['id']}")).status_code == 404
    assert (await service.http.get(CONTACTS)).json() == {"items": []}


async def test_graphql_adds_contacts_with_the_same_checks(start_notifications):
    service = await start_notifications()
    await service.register_unit()
    mutation = 'mutation($i: ContactInput!) { addContact(unitCode: "%s", input: $i) { id phone channels } }' % UNIT
    refused = await service.graphql(mutation, i={"name": "A", "phone": "12345"})
    assert refused["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert refused["errors"][0]["extensions"]["errors"][0]["field"] == "phone"
    added = await service.graphql(mutation, i={"name": "A", "phone": "0912345678", "channels": ["sms"]})
    assert added["data"]["addContact"]["phone"] == "+84912345678" and added["data"]["addContact"]["channels"] == ["sms"]
    listed = await service.graphql('{ contacts(unitCode: "%s") { id } }' % UNIT)
    assert listed["data"]["contacts"] == [{"id": added["data"]["addContact"]["id"]}]


async def test_graphql_replaces_and_removes_contacts(start_notifications):
    service = await start_notifications()
    await service.register_unit()
    person = (await service.http.post(CONTACTS, json={"name": "A", "email": "a@b.vn"})).json()
    replace = 'mutation($i: ContactInput!) { replaceContact(unitCode: "%s", contactId: %d, input: $i) { name phone } }'
    refused = await service.graphql(replace % (UNIT, person["id"]), i={"name": "B", "phone": "0212345678"})
    assert refused["errors"][0]["extensions"]["errors"][0]["field"] == "phone"
    replaced = await service.graphql(replace % (UNIT, person["id"]), i={"name": "B", "phone": "0987654321"})
    assert replaced["data"]["replaceContact"] == {"name": "B", "phone": "+84987654321"}
    missing = await service.graphql(replace % (UNIT, 999), i={"name": "B", "phone": "0987654321"})
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    removed = await service.graphql('mutation { removeContact(unitCode: "%s", contactId: %d) }' % (UNIT, person["id"]))
    assert removed["data"] == {"removeContact": True}
    assert (await service.http.get(CONTACTS)).json() == {"items": []}
