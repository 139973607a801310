"""The plans service through GraphQL: plan tree with progress, what a unit owes, overdue, search, progress."""

from __future__ import annotations

from datetime import datetime

from shared.clock import VN_TZ
from tests.support.plans import VAN_QUAN_COMMUNES, VAN_QUAN_HOME_AFFAIRS, Plans

TREE = """query($id: Int!) { plan(id: $id) { number status progress areas { label title progress
  children { label kind progress obligations { id unitCode role version } children { label kind } } } } }"""
OWED = """query($unit: String!, $after: String) { unitObligations(unitCode: $unit, from: "2024-01-01", to: "2024-12-31", first: 5, after: $after) {
  items { due overdue nodeLabel obligation { unitCode role } } nextCursor } }"""
REPORT = """mutation($id: Int!, $version: Int!) { reportProgress(obligationId: $id, input: {version: $version, percent: 40}) { percent version } }"""


async def gql(plans: Plans, query: str, **variables) -> dict:
    answer = await plans.http.post("/graphql", json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def publish_seed(plans: Plans) -> dict:
    """Import the seed plan 183/KH-UBND and publish it through GraphQL; the import report."""
    report = await plans.import_seed("000.csv", number="183/KH-UBND")
    published = await gql(plans, "mutation($id: Int!) { publishPlan(planId: $id) { status } }", id=report["plan_id"])
    assert published["data"] == {"publishPlan": {"status": "published"}}
    return report


async def test_a_published_plan_reads_as_a_tree_of_its_areas(plans: Plans):
    report = await publish_seed(plans)
    tree = (await gql(plans, TREE, id=report["plan_id"]))["data"]["plan"]
    assert (tree["number"], tree["status"], len(tree["areas"])) == ("183/KH-UBND", "published", report["areas_created"])


async def test_reported_progress_rolls_up_the_tree_and_a_stale_version_is_a_conflict(plans: Plans):
    report = await publish_seed(plans)
    task = (await gql(plans, TREE, id=report["plan_id"]))["data"]["plan"]["areas"][0]["children"][0]
    obligation = next(o for o in task["obligations"] if o["unitCode"] == VAN_QUAN_HOME_AFFAIRS and o["role"] == "lead")
    updated = await gql(plans, REPORT, id=obligation["id"], version=obligation["version"])
    assert updated["data"]["reportProgress"] == {"percent": 40.0, "version": 2}
    stale = await gql(plans, REPORT, id=obligation["id"], version=1)
    assert stale["errors"][0]["extensions"]["code"] == "CONFLICT"
    tree = (await gql(plans, TREE, id=report["plan_id"]))["data"]["plan"]
    leads = sum(o["role"] == "lead" for o in task["obligations"])
    assert tree["areas"][0]["children"][0]["progress"] == round(40 / leads, 4)  # the mean of the lead units
    assert 0 < tree["progress"] < tree["areas"][0]["progress"]


async def test_a_units_obligations_come_by_due_date_page_after_page(plans: Plans):
    await publish_seed(plans)
    first_page = (await gql(plans, OWED, unit=VAN_QUAN_COMMUNES[0]))["data"]["unitObligations"]
    assert len(first_page["items"]) == 5 and first_page["nextCursor"]
    second_page = (await gql(plans, OWED, unit=VAN_QUAN_COMMUNES[0], after=first_page["nextCursor"]))["data"][
        "unitObligations"
    ]
    assert second_page["items"] and second_page["items"][0] != first_page["items"][-1]
    dues = [i["due"] for i in first_page["items"] + second_page["items"]]
    assert dues == sorted(dues)


async def test_obligations_past_their_due_date_are_listed_as_overdue(plans: Plans):
    await publish_seed(plans)
    plans.clock.set(datetime(2025, 1, 2, 9, 0, tzinfo=VN_TZ))
    query = "query($unit: String!) { overdueObligations(unitCode: $unit) { items { due overdue } } }"
    overdue = await gql(plans, query, unit=VAN_QUAN_COMMUNES[0])
    items = overdue["data"]["overdueObligations"]["items"]
    assert items and all(i["overdue"] and i["due"] <= "2024-12-31" for i in items)


async def test_tasks_are_found_by_words_typed_without_diacritics(plans: Plans):
    await publish_seed(plans)
    found = await gql(plans, '{ searchTasks(q: "tuyen truyen CCHC") { items { label title } } }')
    titles = [i["title"] for i in found["data"]["searchTasks"]["items"]]
    assert titles and all("tuyên truyền" in t.lower() for t in titles)


async def test_unknown_plan_is_null_and_bad_cursor_a_coded_error(plans: Plans):
    assert (await gql(plans, "{ plan(id: 424242) { id } }"))["data"] == {"plan": None}
    bad = await gql(plans, '{ plans(after: "not-a-cursor") { items { id } } }')
    assert bad["errors"][0]["extensions"]["code"] == "DOMAIN_ERROR"
