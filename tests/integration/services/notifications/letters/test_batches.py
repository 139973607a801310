"""A consumer batch's lateness events handled as sets (letters/batch.py): the same letters,
numbers and events as one event at a time, in the batch's order, under concurrent replicas."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta
from typing import Any

import pytest

from services.notifications.letters import batch
from services.notifications.letters.schemas import LatenessIn
from shared.bus.base import Message
from shared.events import CloudEvent
from tests.integration.services.notifications.letters.conftest import DUE, KEY, UNIT, Notifications, lateness

OTHER_UNIT = "000.00.16.H10"


def keys_of(unit: str, count: int) -> list[str]:
    return [f"{unit}-240415-{n:04d}" for n in range(1, count + 1)]


def of_unit(unit: str, key: str) -> dict[str, Any]:
    return {**lateness(key), "unit": unit}


async def publish(notifications: Notifications, events: list[tuple[str, dict[str, Any]]]) -> None:
    """One bus batch, as the relay hands it over."""
    messages = []
    for kind, data in events:
        event = CloudEvent(
            source="/cchc/dossiers",
            type=f"vn.cchc.dossier.{kind}.v1",
            time=notifications.clock.now(),
            subject=data["ma_ho_so"],
            data=data,
        )
        messages.append(Message(topic="cchc.dossiers", key=event.subject, value=event.to_json().encode()))
    await notifications.runtime.bus.publish(messages)


async def test_one_batch_issues_one_letter_per_dossier_numbered_in_the_batch_order(notifications: Notifications):
    for unit in (UNIT, OTHER_UNIT):
        await notifications.configure(unit, auto_issue=True)
    interleaved = [k for pair in zip(keys_of(UNIT, 5), keys_of(OTHER_UNIT, 5), strict=True) for k in pair]
    await publish(notifications, [("overdue", of_unit(key[:13], key)) for key in interleaved])

    issued = await notifications.events("letter.issued")
    assert [e["data"]["ma_ho_so"] for e in issued] == interleaved
    for unit in (UNIT, OTHER_UNIT):
        numbers = [e["data"]["number"] for e in issued if e["data"]["unit"] == unit]
        assert numbers == [f"{n}/PXL" for n in range(1, 6)]
    for event in issued:
        [letter] = await notifications.letters(event["data"]["ma_ho_so"])
        assert (letter["id"], letter["number"], letter["status"]) == (
            event["data"]["letter_id"],
            event["data"]["number"],
            "issued",
        )


async def test_the_same_lateness_twice_in_a_batch_gets_one_letter_and_no_escalation(notifications: Notifications):
    await notifications.configure(auto_issue=True)
    await publish(
        notifications, [("overdue", lateness()), ("overdue", lateness()), ("overdue", lateness(keys_of(UNIT, 2)[1]))]
    )

    [letter] = await notifications.letters()
    assert letter["number"] == "1/PXL" and letter["escalated_at"] is None
    assert len(await notifications.events("letter.issued", KEY)) == 1
    assert await notifications.events("letter.escalated", KEY) == []
    [other] = await notifications.letters(keys_of(UNIT, 2)[1])
    assert other["number"] == "2/PXL"
    promised = datetime.fromisoformat(letter["new_due_at"])
    await publish(notifications, [("overdue", lateness(due=promised)), ("overdue", lateness())])  # positive control
    [escalation] = await notifications.events("letter.escalated", KEY)
    assert escalation["data"]["letter_id"] == letter["id"]


async def test_an_event_after_an_overdue_in_the_batch_sees_its_letter(notifications: Notifications):
    await notifications.configure(auto_issue=True)
    await publish(
        notifications, [("overdue", lateness()), ("overdue_after_apology", lateness(due=DUE + timedelta(days=7)))]
    )

    [letter] = await notifications.letters()
    [escalation] = await notifications.events("letter.escalated", KEY)
    assert escalation["data"]["letter_id"] == letter["id"] and escalation["data"]["number"] == "1/PXL"


async def test_due_soon_in_a_batch_drafts_only_where_the_policy_says_so(notifications: Notifications):
    await notifications.configure(UNIT, draft_on_due_soon=True)
    await notifications.configure(OTHER_UNIT, draft_on_due_soon=False)
    drafted, skipped = keys_of(UNIT, 1)[0], keys_of(OTHER_UNIT, 1)[0]
    await publish(notifications, [("due_soon", of_unit(UNIT, drafted)), ("due_soon", of_unit(OTHER_UNIT, skipped))])

    [draft] = await notifications.letters(drafted)
    assert draft["status"] == "draft" and draft["number"] is None
    assert await notifications.letters(skipped) == []


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=False)
async def test_replicas_handling_one_batch_in_different_orders_number_without_gaps(start_notifications, backend):
    notifications = await start_notifications()
    for unit in (UNIT, OTHER_UNIT):
        await notifications.configure(unit, auto_issue=True)
    facts = [LatenessIn.model_validate(of_unit(unit, key)) for unit in (UNIT, OTHER_UNIT) for key in keys_of(unit, 10)]
    context = notifications.runtime["notifications"]

    async def replica(seed: int) -> None:
        shuffled = random.Random(seed).sample(facts, len(facts))
        async with context.uow() as uow:
            for item in shuffled:
                batch.gather(uow, item, overdue=True)  # what the consumer's handler does
            await uow.commit()

    await asyncio.gather(*(replica(seed) for seed in range(6)))
    issued = await notifications.events("letter.issued")
    assert sorted(e["data"]["ma_ho_so"] for e in issued) == sorted(f.ma_ho_so for f in facts)
    for unit in (UNIT, OTHER_UNIT):
        numbers = sorted(int(e["data"]["number"].split("/")[0]) for e in issued if e["data"]["unit"] == unit)
        assert numbers == list(range(1, 11))


async def test_a_later_lateness_event_does_not_reopen_a_resolved_dossier(notifications: Notifications):
    await notifications.configure(draft_on_due_soon=False)
    await notifications.deliver("due_soon", lateness())
    assert (await notifications.post("/letters", json={"dossier": KEY})).status_code == 201  # positive control
    other = keys_of(UNIT, 2)[1]
    await publish(
        notifications, [("due_soon", lateness(other)), ("resolved", {"ma_ho_so": other}), ("due_soon", lateness(other))]
    )

    refused = await notifications.post("/letters", json={"dossier": other})
    assert refused.status_code == 409 and refused.json()["errors"] == [
        {"field": "dossier", "message": "dossier resolved"}
    ]
