"""Events the dossiers service consumes: the handler table."""

from __future__ import annotations

from services.dossiers import late
from services.dossiers.models import directory, kernel
from services.dossiers.schemas import LetterIssuedIn
from shared.api_keys import replica_handlers
from shared.consumer import Subscription
from shared.events import CloudEvent
from shared.uow import UnitOfWork


async def on_letter_issued(uow: UnitOfWork, event: CloudEvent) -> None:
    await late.record_apology_letter(uow, event.data_as(LetterIssuedIn))


SUBSCRIPTIONS = [
    Subscription(topic="cchc.plans", handlers={**directory.handlers(), **replica_handlers(kernel.api_keys)}),
    Subscription(topic="cchc.notifications", handlers={"vn.cchc.letter.issued.v1": on_letter_issued}),
]
