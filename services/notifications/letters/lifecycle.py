"""The letter's status machine: draft → approved → issued → delivered | failed.

A failed delivery can still end delivered (the letter handed over at the desk after an email
bounced); nothing leaves ``delivered``.
"""

from __future__ import annotations

from enum import StrEnum

from shared.problems import Conflict


class Status(StrEnum):
    draft = "draft"
    approved = "approved"
    issued = "issued"
    delivered = "delivered"
    failed = "failed"


TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.draft: (Status.approved,),
    Status.approved: (Status.issued,),
    Status.issued: (Status.delivered, Status.failed),
    Status.failed: (Status.delivered,),
    Status.delivered: (),
}
ISSUED = frozenset({Status.issued, Status.delivered, Status.failed})  # has a number and was sent out


class WrongTransition(Conflict):
    code = "wrong_transition"


def check_transition(current: str, target: Status) -> None:
    """Refuse a move the status machine does not allow, naming the ones it does (409)."""
    allowed = TRANSITIONS[Status(current)]
    if target not in allowed:
        names = [s.value for s in allowed]
        detail = f"A letter that is {current} cannot become {target.value}; allowed: {', '.join(names) or 'none'}."
        raise WrongTransition(detail, status_now=current, allowed_transitions=names)
