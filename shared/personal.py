"""Citizens' personal data (names, ID numbers, phones, e-mails, addresses) masked for those who
may not see it: a ``viewer`` (REST and GraphQL), and webhook endpoints not allowed to receive it.

Masked, not removed: the field keeps its place and a masked value tells a reader that there is a
value and lets them tell records apart, without the value itself. ``None`` stays ``None``.

- a name keeps the first letter of each word: ``Lê Thị Thu Hà`` → ``L*** T*** T*** H***``;
- a number (ID number, phone) keeps its first 4 and last 3 characters: ``0912345678`` → ``0912***678``
  (a short one is all stars);
- an e-mail address keeps the first letter and the domain: ``thuha@example.vn`` → ``t***@example.vn``;
- an address is hidden whole: ``***`` (its parts identify a household).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

STARS = "***"


def mask_name(value: str | None) -> str | None:
    if value is None:
        return None
    return " ".join(word[0] + STARS for word in value.split()) or STARS


def mask_number(value: str | None) -> str | None:
    if value is None:
        return None
    return value[:4] + STARS + value[-3:] if len(value) >= 10 else STARS


def mask_email(value: str | None) -> str | None:
    if value is None:
        return None
    local, at, domain = value.partition("@")
    return (local[:1] + STARS + at + domain) if at else STARS


def mask_address(value: str | None) -> str | None:
    return None if value is None else STARS


def mask_contact(value: str | None) -> str | None:
    """An address a message goes to: an e-mail address, or a phone number."""
    return mask_email(value) if value and "@" in value else mask_number(value)


MASKS: Mapping[str, Callable[[str | None], str | None]] = {
    "name": mask_name,
    "applicant_name": mask_name,
    "id_number": mask_number,
    "applicant_id_number": mask_number,
    "phone": mask_number,
    "zalo_phone": mask_number,
    "applicant_phone": mask_number,
    "email": mask_email,
    "applicant_email": mask_email,
    "address": mask_address,
    "applicant_address": mask_address,
    "to": mask_contact,
}
"""Each personal field, by the name it has in this product's records and events, and its mask."""


def masked(record: Mapping[str, Any], fields: Iterable[str] | None = None) -> dict[str, Any]:
    """A copy of ``record`` with its personal fields (``fields``, default every one :data:`MASKS`
    knows) masked; a value that is not text is replaced by ``None``."""
    names = MASKS.keys() if fields is None else fields
    copy = dict(record)
    for name in names:
        if name in copy and copy[name] is not None:
            value = copy[name]
            copy[name] = MASKS[name](value) if isinstance(value, str) else None
    return copy


def masked_paths(data: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """A copy of ``data`` whose sub-records at the dotted ``paths`` (``applicant``) are :func:`masked`,
    or, for a path naming a field itself (``applicant_name``), that field."""
    copy = dict(data)
    for path in paths:
        head, _, rest = path.partition(".")
        value = copy.get(head)
        if rest and isinstance(value, Mapping):
            copy[head] = masked_paths(value, [rest])
        elif isinstance(value, Mapping):
            copy[head] = masked(value)
        elif head in copy and value is not None:  # a field itself: its mask, or nothing when it has none
            copy[head] = MASKS[head](value) if head in MASKS and isinstance(value, str) else None
    return copy
