"""The scoring API on real events: bad input, REST and GraphQL alike, targets, rankings, the publisher."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from services.scoring.publisher import publish_pending
from shared.clock import VN_TZ
from tests.integration.services.scoring.conftest import (
    PROCEDURE,
    Scoring,
    envelope,
    received,
    resolved,
    two_units,
)
from tests.support.outbox import committed_events

NOW = datetime(2024, 8, 15, 9, 0, tzinfo=VN_TZ)


def item(body: dict[str, Any], code: str) -> dict[str, Any]:
    return next(i for i in body["items"] if i["code"] == code)


async def test_bad_input_gets_field_level_answers_and_no_data_gets_zeros(start_scoring: Callable[..., Any]) -> None:
    scoring = await start_scoring(NOW)
    await two_units(scoring)
    unknown = await scoring.get("indicators", unit="NOPE", period="2024")
    assert unknown.status_code == 404 and "NOPE" in unknown.json()["detail"]
    for period in ("2024-Q5", "2024-13"):
        bad = await scoring.get("indicators", unit="C1", period=period)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "period", bad.text
    bad_code = await scoring.get("indicators", unit="C1", period="2024", code="dossiers.nothing")
    assert bad_code.status_code == 422 and bad_code.json()["errors"][0]["field"] == "code"
    empty = await scoring.get("indicators", unit="C1", period="2023-Q1")
    assert empty.status_code == 200
    assert item(empty.json(), "dossiers.received")["value"] == 0
    assert item(empty.json(), "dossiers.on_time_rate") | {"name": None} == {
        "code": "dossiers.on_time_rate",
        "name": None,
        "numerator": 0,
        "denominator": 0,
        "value": None,
        "target": None,
        "status": None,
        "points": None,
        "max_points": None,
        "note": None,
    }


async def test_an_unreadable_event_is_dead_lettered_and_the_rest_of_the_batch_counts(
    start_scoring: Callable[..., Any],
) -> None:
    scoring = await start_scoring(NOW)
    await two_units(scoring)
    at = datetime(2024, 3, 4, 9, tzinfo=VN_TZ)
    good = {
        "ma_ho_so": "G1",
        "unit": "C1",
        "procedure": PROCEDURE,
        "channel": 1,
        "received_at": at.isoformat(),
        "due_at": None,
        "rule_set": "nd61",
        "origin": "sync",
    }
    bad = {"ma_ho_so": "B1", "unit": "C1", "procedure": PROCEDURE, "status": 10}  # no finished_at
    await scoring.deliver(
        [
            envelope("dossier.resolved", "B1", bad, at, "cchc.dossiers"),
            envelope("dossier.received", "G1", good, at, "cchc.dossiers"),
        ]
    )
    body = (await scoring.get("indicators", unit="P1", period="2024-03", code="dossiers.received")).json()
    assert item(body, "dossiers.received")["value"] == 1
    codes = ["dossiers.received", "dossiers.on_time_rate"]  # several codes: repeated, or separated by commas
    for asked in (codes, ",".join(codes)):
        several = (await scoring.get("indicators", unit="P1", period="2024-03", code=asked)).json()
        assert sorted(i["code"] for i in several["items"]) == sorted(codes), asked
    letters = await scoring.context.dead_letters.pending()
    assert [letter.message.key for letter in letters] == ["B1"]
    assert "finished_at" in letters[0].error


async def test_rest_and_graphql_answer_alike_with_the_parent_rolled_up(start_scoring: Callable[..., Any]) -> None:
    scoring = await start_scoring(NOW)
    await two_units(scoring)
    at = datetime(2024, 3, 4, 9, tzinfo=VN_TZ)
    await received(scoring, "A", "C1", at, at + timedelta(days=5))
    await resolved(scoring, "A", "C1", at, at + timedelta(days=5), at + timedelta(days=6))  # late
    await received(scoring, "B", "C2", at, at + timedelta(days=5), channel=1)
    await resolved(scoring, "B", "C2", at, at + timedelta(days=5), at + timedelta(days=1), channel=1)  # early
    rest = (await scoring.get("indicators", unit="P1", period="2024-Q1")).json()
    assert (
        item(rest, "dossiers.on_time_rate")["numerator"] == 1
        and item(rest, "dossiers.on_time_rate")["denominator"] == 2
    )
    assert item(rest, "dossiers.online_rate")["value"] == 0.5
    assert item(rest, "qd766.progress_points")["points"] == 10
    query = '{ indicators(unit: "P1", period: "2024-Q1") { unit period items { code value numerator denominator points maxPoints } } }'
    graph = (await scoring.client.post("/graphql", json={"query": query})).json()["data"]["indicators"]
    assert graph["period"] == "2024-Q1"
    assert {i["code"]: i["value"] for i in graph["items"]} == {i["code"]: i["value"] for i in rest["items"]}
    error = (
        await scoring.client.post("/graphql", json={"query": '{ indicators(unit: "P1", period: "2024-Q5") { unit } }'})
    ).json()
    assert error["errors"][0]["extensions"]["code"] == "INVALID_REQUEST"

    card = (await scoring.get("scorecard", unit="P1", period="2024-Q1")).json()
    assert [g["max_points"] for g in card["groups"]] == [18, 20, 12, 10, 18, 22]
    assert (
        card["total"]["points"] == 10 + 8 + 0 and card["total"]["out_of"] == 30
    )  # progress 10, payment 6·1 + min(2, 2.5·1), reuse 0
    ranks = (
        await scoring.get("rankings", level="commune", parent="P1", code="dossiers.on_time_rate", period="2024-Q1")
    ).json()
    assert ranks["count"] == 2 and [(r["unit"], r["rank"]) for r in ranks["items"]] == [("C2", 1), ("C1", 2)]
    await resolved(
        scoring, "A", "C1", at, at + timedelta(days=5), at + timedelta(days=2)
    )  # a corrected copy is final too
    ranks = (await scoring.get("rankings", level="commune", code="dossiers.on_time_rate", period="2024-Q1")).json()
    assert [r["rank"] for r in ranks["items"]] == [1, 1]  # ties share a rank


async def test_the_publisher_coalesces_indicator_changes_and_reports_a_target_at_risk_once(
    start_scoring: Callable[..., Any],
) -> None:
    scoring = await start_scoring(datetime(2024, 8, 1, 9, tzinfo=VN_TZ))
    await two_units(scoring)
    target = {
        "target_id": 7,
        "plan_id": 1,
        "node_id": None,
        "issuer_code": "P1",
        "metric_code": "dossiers.on_time_rate",
        "operator": ">=",
        "value": "95",
        "unit": "%",
        "strict": False,
        "level": None,
        "period": "2024-Q3",
        "version": 1,
    }
    await scoring.deliver([envelope("target.set", "7", target, scoring.clock.now(), "cchc.plans")])
    at = datetime(2024, 7, 2, 9, tzinfo=VN_TZ)
    for n in range(3):
        await received(scoring, f"D{n}", "C1", at, at + timedelta(days=3))
    await resolved(scoring, "D0", "C1", at, at + timedelta(days=3), at + timedelta(days=4))  # late

    async def publish() -> list[dict[str, Any]]:
        before = len(await committed_events(scoring.context))
        await publish_pending(scoring.context)
        return (await committed_events(scoring.context))[before:]

    first = await publish()
    changed = [e["data"] for e in first if e["type"] == "vn.cchc.indicator.changed.v1"]
    keys = [(d["unit"], d["period"], d["code"]) for d in changed]
    assert len(keys) == len(set(keys))  # one per unit, period and code, however many events came in
    rate = next(
        d for d in changed if d["unit"] == "P1" and d["period"] == "2024-Q3" and d["code"] == "dossiers.on_time_rate"
    )
    assert rate["value"] == 2 / 3 and rate["targets"][0]["value"] == 0.95
    at_risk = [e["data"] for e in first if e["type"] == "vn.cchc.target.at_risk.v1"]
    assert [(d["target_id"], d["unit"], d["status"]) for d in at_risk] == [(7, "P1", "at_risk")]
    assert await publish() == []  # nothing moved: nothing published

    await resolved(scoring, "D1", "C1", at, at + timedelta(days=3), at + timedelta(days=5))  # late too: still at risk
    assert await publish() == []  # the same instant: those keys were published less than a second ago
    scoring.clock.advance(timedelta(seconds=1))
    second = await publish()
    assert {e["type"] for e in second} == {"vn.cchc.indicator.changed.v1"}
    targets = (await scoring.get("targets", unit="P1", status="at_risk")).json()["items"]
    assert [(t["target_id"], t["status"], t["target"]) for t in targets] == [(7, "at_risk", 0.95)]

    scoring.clock.set(datetime(2024, 10, 1, 8, tzinfo=VN_TZ))  # the quarter ended below target
    missed = await publish()
    assert [(e["type"], e["data"]["target_id"]) for e in missed] == [("vn.cchc.target.missed.v1", 7)]


def task(type_: str, obligation: int, unit: str, role: str, due: str, **extra: Any) -> Any:
    """A plans task event about occurrence ``obligation * 10`` of ``obligation``, sent at NOW."""
    data = {
        "obligation_id": obligation,
        "task_id": 1,
        "task_label": None,
        "task_title": "Nhiệm vụ",
        "plan_id": 1,
        "plan_number": None,
        "unit_code": unit,
        "role": role,
        "due": due,
        "offset_days": 1,
        "occurrence_id": obligation * 10,
        **extra,
    }
    return envelope(type_, str(obligation), data, NOW, "cchc.plans")


async def task_rates(scoring: Scoring, period: str) -> list[tuple[str, int, int]]:
    body = (
        await scoring.get("indicators", unit="P1", period=period, code=["tasks.completion_rate", "tasks.on_time_rate"])
    ).json()
    return [(i["code"], i["numerator"], i["denominator"]) for i in body["items"]]


async def test_task_events_give_the_lead_units_completion_rates(start_scoring: Callable[..., Any]) -> None:
    scoring = await start_scoring(NOW)
    await two_units(scoring)

    done = {"completed_at": "2024-03-10", "obligation_done": True}
    await scoring.deliver(
        [
            task("task.completed", 1, "C1", "lead", "2024-03-15", on_time=True, **done),
            task("task.completed", 2, "C1", "lead", "2024-03-05", on_time=False, **done),
            task("task.overdue", 3, "C1", "lead", "2024-03-20"),
            task("task.overdue", 4, "C1", "coordinate", "2024-03-20"),  # coordinating units are not scored
        ]
    )
    await scoring.deliver(
        [task("task.completed", 3, "C1", "lead", "2024-03-20", on_time=False, **{**done, "completed_at": "2024-03-25"})]
    )
    assert await task_rates(scoring, "2024-03") == [("tasks.completion_rate", 3, 3), ("tasks.on_time_rate", 1, 3)]


def moved(obligation: int, old: str, new: str | None) -> Any:
    """``task.rescheduled`` moving occurrence ``obligation * 10`` of ``obligation`` (led by C1)."""
    occurrences = [{"occurrence_id": obligation * 10, "old_due": old, "new_due": new}]
    data = {
        "task_id": 1,
        "plan_id": 1,
        "implements_id": None,
        "reason": "revised",
        "old_due": old,
        "new_due": new,
        "dues": [new] if new else [],
        "unit_codes": ["C1"],
        "obligations": [{"obligation_id": obligation, "unit_code": "C1", "role": "lead", "occurrences": occurrences}],
    }
    return envelope("task.rescheduled", "1", data, NOW, "cchc.plans")


async def test_rescheduled_and_withdrawn_tasks_count_where_plans_now_says(start_scoring: Callable[..., Any]) -> None:
    scoring = await start_scoring(NOW)
    await two_units(scoring)
    done = {"completed_at": "2024-03-25", "obligation_done": True}
    await scoring.deliver(
        [
            task("task.overdue", 1, "C1", "lead", "2024-03-20"),
            task("task.overdue", 2, "C1", "lead", "2024-03-20"),
            task("task.completed", 3, "C1", "lead", "2024-03-20", on_time=False, **done),
            task("task.overdue", 4, "C1", "lead", "2024-03-20"),
        ]
    )
    assert await task_rates(scoring, "2024-03") == [("tasks.completion_rate", 1, 4), ("tasks.on_time_rate", 0, 4)]

    withdrawn = {"obligation_id": 4, "task_id": 1, "plan_id": 1, "unit_code": "C1", "role": "lead"}
    await scoring.deliver(
        [
            moved(1, "2024-03-20", "2024-09-30"),  # not due yet: owed in September, not overdue
            moved(2, "2024-03-20", "2024-07-31"),  # past already: overdue in July
            moved(3, "2024-03-20", "2024-03-31"),  # done on 25/03: on time by the new date
            envelope(
                "task.withdrawn",
                "4",
                {**withdrawn, "reason": "task_removed", "withdrawn_at": NOW.isoformat(), "open_occurrence_ids": [40]},
                NOW,
                "cchc.plans",
            ),
            task("task.overdue", 1, "C1", "lead", "2024-03-20"),  # a late overdue of the old date: stale
        ]
    )
    assert await task_rates(scoring, "2024-03") == [("tasks.completion_rate", 1, 1), ("tasks.on_time_rate", 1, 1)]
    assert await task_rates(scoring, "2024-07") == [("tasks.completion_rate", 0, 1), ("tasks.on_time_rate", 0, 1)]
    assert await task_rates(scoring, "2024") == [("tasks.completion_rate", 1, 2), ("tasks.on_time_rate", 1, 2)]


async def test_a_series_gives_one_point_per_period_of_the_grain(start_scoring: Callable[..., Any]) -> None:
    scoring = await start_scoring(NOW)
    await two_units(scoring)
    for month in (1, 3):
        at = datetime(2024, month, 10, 9, tzinfo=VN_TZ)
        await received(scoring, f"S{month}", "C2", at, at + timedelta(days=5))
    series = (
        await scoring.get("indicators/dossiers.received/series", unit="P1", **{"from": "2024-01", "to": "2024-04"})
    ).json()
    assert [(p["period"], p["value"]) for p in series["points"]] == [
        ("2024-01", 1),
        ("2024-02", 0),
        ("2024-03", 1),
        ("2024-04", 0),
    ]
    quarters = (
        await scoring.get(
            "indicators/dossiers.received/series", unit="P1", grain="quarter", **{"from": "2024-Q1", "to": "2024"}
        )
    ).json()
    assert [(p["period"], p["value"]) for p in quarters["points"]] == [
        ("2024-Q1", 2),
        ("2024-Q2", 0),
        ("2024-Q3", 0),
        ("2024-Q4", 0),
    ]
    bad = await scoring.get("indicators/dossiers.received/series", unit="P1", **{"from": "2024-04", "to": "2024-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "to"


async def test_a_target_for_a_level_binds_each_unit_of_that_level_with_its_own_status(
    start_scoring: Callable[..., Any],
) -> None:
    scoring = await start_scoring(datetime(2024, 8, 1, 9, tzinfo=VN_TZ))
    await two_units(scoring)
    target = {
        "target_id": 9,
        "plan_id": 1,
        "node_id": None,
        "issuer_code": "P1",
        "metric_code": "dossiers.on_time_rate",
        "operator": ">",
        "value": "90",
        "unit": "%",
        "strict": True,
        "level": "commune",
        "period": "2024-Q3",
        "version": 1,
    }
    await scoring.deliver([envelope("target.set", "9", target, scoring.clock.now(), "cchc.plans")])
    at = datetime(2024, 7, 2, 9, tzinfo=VN_TZ)
    for key, unit, finished in (("L1", "C1", at + timedelta(days=4)), ("L2", "C2", at + timedelta(days=1))):
        await received(scoring, key, unit, at, at + timedelta(days=3))
        await resolved(scoring, key, unit, at, at + timedelta(days=3), finished)
    await publish_pending(scoring.context)
    await publish_pending(scoring.context)  # a second pass: no status changed, no event
    at_risk = [e["data"] for e in await committed_events(scoring.context, "target.at_risk")]
    assert [(d["target_id"], d["unit"]) for d in at_risk] == [(9, "C1")]  # C2 is on time; P1 itself is not a commune
    statuses = {u: (await scoring.get("targets", unit=u)).json()["items"] for u in ("C1", "C2", "P1")}
    assert [t["status"] for t in statuses["C1"]] == ["at_risk"] and [t["status"] for t in statuses["C2"]] == [
        "on_track"
    ]
    assert statuses["P1"] == []
