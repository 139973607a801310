"""Addresses a channel accepts: Vietnamese mobile numbers and e-mail addresses, normalised."""

from __future__ import annotations

import re

from pydantic import validate_email
from pydantic_core import PydanticCustomError

# Mobile networks' prefixes after the 0 (Viettel 86/96-98/32-39, Vinaphone 88/91/94/81-85,
# MobiFone 89/90/93/70/76-79, Vietnamobile 92/56/58, Gmobile 99/59, Itel 87, Reddi 55, Wintel 52).
_MOBILE = re.compile(r"(?:\+84|84|0)((?:3[2-9]|5[25689]|7[06-9]|8[1-9]|9\d)\d{7})")
_SEPARATORS = re.compile(r"[\s.\-()]")


def vn_mobile(value: str) -> str:
    """A Vietnamese mobile number as E.164 (``+84…``): ``0912 345 678``, ``+84912345678`` and
    ``84-912-345-678`` are one number; landlines, short codes and other countries are refused."""
    match = _MOBILE.fullmatch(_SEPARATORS.sub("", value))
    if match is None:
        raise PydanticCustomError(
            "vn_mobile", "not a Vietnamese mobile number (10 digits from 03, 05, 07, 08 or 09, or +84 and 9 digits)"
        )
    return f"+84{match.group(1)}"


def email_address(value: str) -> str:
    """The address part of an e-mail address, checked (the display name, if any, dropped)."""
    try:
        return validate_email(value)[1]
    except Exception as exc:  # pydantic raises PydanticCustomError with its own message
        raise PydanticCustomError("email", "not a valid e-mail address") from exc
