"""The letters through GraphQL: the same data and the same refusals as REST, as error codes."""

from __future__ import annotations

from typing import Any

from tests.integration.services.notifications.letters.conftest import KEY, Notifications, lateness

FIELDS = "id maHoSo number status regime newDueAt templateId templateVersion pdfPath"


async def gql(n: Notifications, query: str, **variables: Any) -> dict[str, Any]:
    response = await n.client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_query_and_transitions_with_error_codes(notifications: Notifications):
    await notifications.deliver("overdue", lateness())
    [rest] = await notifications.letters()
    listed = await gql(notifications, f"query($d: String!) {{ letters(dossier: $d) {{ {FIELDS} }} }}", d=KEY)
    [letter] = listed["data"]["letters"]
    assert letter["id"] == rest["id"] and letter["status"] == "draft" and letter["regime"] == "tt01_2018"
    assert letter["pdfPath"] == f"/notifications/v1/letters/{rest['id']}.pdf"

    approve = "mutation($id: ID!) { approveLetter(id: $id) { status } }"
    issue = "mutation($id: ID!) { issueLetter(id: $id) { status number } }"
    assert (await gql(notifications, approve, id=rest["id"]))["data"]["approveLetter"]["status"] == "approved"
    assert (await gql(notifications, issue, id=rest["id"]))["data"]["issueLetter"] == {
        "status": "issued",
        "number": "1/PXL",
    }
    [error] = (await gql(notifications, approve, id=rest["id"]))["errors"]
    assert error["extensions"]["code"] == "WRONG_TRANSITION"
    assert error["extensions"]["allowed_transitions"] == ["delivered", "failed"]

    queue = await gql(notifications, "{ letterPrintQueue { id } }")
    assert queue["data"]["letterPrintQueue"] == [{"id": rest["id"]}]
    delivered = await gql(
        notifications, "mutation($id: ID!) { markLetterDelivered(id: $id) { status } }", id=rest["id"]
    )
    assert delivered["data"]["markLetterDelivered"]["status"] == "delivered"


async def test_bad_input_through_graphql(notifications: Notifications):
    unknown = await gql(notifications, 'mutation { createLetter(dossier: "000.00.15.H10-240415-9999") { id } }')
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    await notifications.deliver("overdue", lateness())
    [letter] = await notifications.letters()
    await gql(notifications, "mutation($id: ID!) { approveLetter(id: $id) { id } }", id=letter["id"])
    await gql(notifications, "mutation($id: ID!) { issueLetter(id: $id) { id } }", id=letter["id"])
    empty = await gql(
        notifications, 'mutation($id: ID!) { markLetterFailed(id: $id, reason: "  ") { id } }', id=letter["id"]
    )
    assert empty["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert empty["errors"][0]["extensions"]["errors"][0]["field"] == "reason"
