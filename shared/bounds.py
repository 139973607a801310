"""Bounded value types for every API: an out-of-range or malformed value is refused where it is
read, with its field (a 422 or a per-record error), never a 500 from deeper down.

- ids are 64-bit keys: 1 to 2^63 − 1 (a larger one overflows the database driver);
- instants and calendar days lie in [2000-01-01, 2100-01-01) Vietnam time: no record of this
  domain is older (electronic one-stop systems and the plans start well after 2000), and the
  working-time calendar counts forward from them for years without leaving the representable range;
- numbers are finite and at most 10^15 in magnitude (a target, a fee, a budget);
- text carries no control characters (NUL, C0/C1 controls other than tab and line breaks) and no
  bidirectional embedding, override or isolate characters (U+202A–U+202E, U+2066–U+2069), which
  can make a name display as something else;
- an electronic agency id follows the national pattern ``NNN.NN.NN.XNN`` (e.g. ``000.00.12.H42``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator, Field, StringConstraints

from shared.clock import VN_TZ
from shared.instants import WRITTEN, WRITTEN_SCHEMA, day_end, day_start, filter_schema

MAX_ID = 2**63 - 1
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2099, 12, 31)
EARLIEST = datetime(2000, 1, 1, tzinfo=VN_TZ)
LATEST = datetime(2100, 1, 1, tzinfo=VN_TZ)
MAX_MAGNITUDE = 10**15

# Characters no text field takes: controls (tab and line breaks excepted) and bidirectional overrides.
CONTROL_CHARACTERS = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\u202a-\u202e\u2066-\u2069"
NO_CONTROL = f"^[^{CONTROL_CHARACTERS}]*$"
AGENCY_ID = r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$"
SLUG = r"^[0-9A-Za-z]+(?:[._-][0-9A-Za-z]+)*$"

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Day = Annotated[date, Field(ge=EARLIEST_DAY, le=LATEST_DAY)]
Instant = Annotated[AwareDatetime, Field(ge=EARLIEST, lt=LATEST), WRITTEN, WRITTEN_SCHEMA]
# Filter bounds: an instant, or a date alone meaning that day in Vietnam (shared.instants).
FromInstant = Annotated[Instant, BeforeValidator(day_start), filter_schema("from 00:00 of that day, Vietnam time")]
ToInstant = Annotated[Instant, BeforeValidator(day_end), filter_schema("up to the end of that day, Vietnam time")]
Amount = Annotated[Decimal, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, allow_inf_nan=False)]
Measure = Annotated[float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, allow_inf_nan=False)]
Text = Annotated[str, StringConstraints(pattern=NO_CONTROL)]
AgencyId = Annotated[str, StringConstraints(pattern=AGENCY_ID)]
Slug = Annotated[str, StringConstraints(max_length=64, pattern=SLUG)]


def control_message(error_type: str, pattern: object) -> str | None:
    """A readable message for a refusal of :data:`NO_CONTROL` (pydantic quotes the pattern)."""
    if error_type == "string_pattern_mismatch" and pattern == NO_CONTROL:
        return "contains a control or bidirectional-override character"
    if error_type == "string_unicode":
        return "is not valid Unicode text (a lone surrogate such as \\ud800)"
    return None
