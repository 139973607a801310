"""The audit log: who changed what, to which object, from where and when.

Every service's database has an ``audit_log`` table (``shared.kernel_tables``), written only through
:meth:`shared.uow.UnitOfWork.audit`, in the transaction of the change it records: the change and
its row commit or roll back together. The database refuses to change or delete a row (triggers).

Who: the principal the unit of work was opened for (a request's, from ``get_principal``), else the
principal of the request being served (``principal_var``), else the system (consumers and
schedulers, with the id of the event being handled). From where: the client's address and the
request id. What changed: a small JSON (instants in Vietnam time), before and after where cheap, never personal data (a
person's name, number, phone, e-mail or address is recorded as ``"changed"``, not its value).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python

from shared.auth import ADMIN, Principal, principal_var
from shared.clock import VN_TZ
from shared.logs import event_id_var, request_id_var

SYSTEM = "system"  # the actor of what consumers and schedulers do
CLI = Principal(subject="cli", roles=frozenset({ADMIN}))  # who works through the ``cchc`` command
HIDDEN = "changed"  # what the log keeps of a personal value that changed

client_address_var: ContextVar[str | None] = ContextVar("client_address", default=None)
"""The address of the client of the request being served (set by the root app's middleware)."""


def audit_row(
    principal: Principal | None,
    action: str,
    object_type: str,
    object_id: str | int,
    changes: Mapping[str, Any] | None,
    at: datetime,
) -> dict[str, Any]:
    """The ``audit_log`` row of one change (the caller inserts it in the change's transaction)."""
    who = principal if principal is not None else principal_var.get()
    return {
        "at": at,
        "actor": who.subject if who is not None else SYSTEM,
        "actor_roles": sorted(who.roles) if who is not None else [],
        "actor_unit": who.unit if who is not None else None,
        "key_id": who.key_id if who is not None else None,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "client_address": client_address_var.get(),
        "request_id": request_id_var.get(),
        "event_id": event_id_var.get(),
        "changes": to_jsonable_python(_in_vietnam_time(dict(changes or {}))),  # a snapshot, as JSON
    }


def _in_vietnam_time(value: Any) -> Any:
    """Instants as the API shows them (Vietnam time), whichever offset they were read with."""
    if isinstance(value, datetime):
        return value.astimezone(VN_TZ)
    if isinstance(value, Mapping):
        return {key: _in_vietnam_time(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_in_vietnam_time(item) for item in value]
    return value


def changed(before: Mapping[str, Any], after: Mapping[str, Any], *, hidden: Iterable[str] = ()) -> dict[str, Any]:
    """The fields whose value differs, each as ``[before, after]`` (a field missing on one side is
    None there); a ``hidden`` field (personal data) as ``"changed"``."""
    secret = set(hidden)
    return {
        name: HIDDEN if name in secret else [before.get(name), after.get(name)]
        for name in dict.fromkeys([*before, *after])
        if before.get(name) != after.get(name)
    }
