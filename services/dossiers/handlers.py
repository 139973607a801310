"""Events the dossiers service consumes: the handler table."""

from __future__ import annotations

from services.dossiers.late import on_letter_issued
from services.dossiers.models import directory
from shared.consumer import Subscription

SUBSCRIPTIONS = [
    Subscription(topic="cchc.plans", handlers=directory.handlers()),
    Subscription(topic="cchc.notifications", handlers={"vn.cchc.letter.issued.v1": on_letter_issued}),
]
