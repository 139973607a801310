"""A unit's letter settings and policy: its letterhead and signer, whether letters issue on their
own, and how far the new return date goes (N working days, per unit, per procedure override)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.letters.models import LetterSettings
from services.notifications.models import directory
from shared.calendar import DurationUnit, WorkingCalendar
from shared.uow import UnitOfWork

DEFAULT = "*"  # the key of the settings every unit without its own follows (a province sets them once)
DEFAULT_EXTENSION_WORKING_DAYS = 5
DEFAULT_REASON = "Hồ sơ cần thêm thời gian để thẩm định, xác minh theo quy định."


@dataclass(frozen=True)
class UnitPolicy:
    """The settings in force for one issuing unit (its own, or the defaults)."""

    unit_code: str
    issuing_body: str
    superior_body: str = ""
    place_name: str = ""
    signer_authority: str = ""
    signer_title: str = "Thủ trưởng cơ quan"
    signer_name: str = ""
    number_suffix: str = "PXL"
    one_stop_name: str = "Bộ phận Một cửa"
    default_reason: str = DEFAULT_REASON
    auto_issue: bool = False
    draft_on_due_soon: bool = True
    extension_working_days: int = DEFAULT_EXTENSION_WORKING_DAYS
    procedure_extensions: dict[str, int] = field(default_factory=dict)
    phone_channel: str = "sms"  # the channel of the short form to a mobile number: "sms" or "zalo"
    configured: bool = False  # False: nobody set this unit's settings yet

    def extension_for(self, procedure_code: str) -> int:
        return self.procedure_extensions.get(procedure_code, self.extension_working_days)

    def new_due_at(
        self, procedure_code: str, missed_due_at: datetime, now: datetime, calendar: WorkingCalendar
    ) -> datetime:
        """The proposed return date: N working days counted from the missed due date, or from now
        when the letter comes after it (a promise already in the past would be no promise)."""
        start = max(missed_due_at, now)
        return calendar.add(start, self.extension_for(procedure_code), DurationUnit.working_days)


SETTING_FIELDS = tuple(f for f in UnitPolicy.__dataclass_fields__ if f not in ("unit_code", "configured"))


def _configured(row: LetterSettings) -> UnitPolicy:
    return UnitPolicy(unit_code=row.unit_code, configured=True, **{f: getattr(row, f) for f in SETTING_FIELDS})


async def unit_policy(session: AsyncSession, unit_code: str) -> UnitPolicy:
    """The unit's own settings; else the default settings (``DEFAULT``), else the built-in ones,
    either with the unit's name from the recipient directory as the issuing body."""
    row = await session.get(LetterSettings, unit_code)
    if row is not None:
        return _configured(row)
    unit = await directory.get(session, unit_code)
    name = unit.name if unit else unit_code
    default = await session.get(LetterSettings, DEFAULT) if unit_code != DEFAULT else None
    if default is None:
        return UnitPolicy(unit_code=unit_code, issuing_body=name)
    return UnitPolicy(unit_code=unit_code, **{**{f: getattr(default, f) for f in SETTING_FIELDS}, "issuing_body": name})


async def unit_policies(session: AsyncSession, unit_codes: Iterable[str]) -> dict[str, UnitPolicy]:
    """:func:`unit_policy` of several units: their settings in one query, the defaults for the rest."""
    codes = sorted(set(unit_codes))
    rows = await session.scalars(select(LetterSettings).where(LetterSettings.unit_code.in_(codes)))
    found = {row.unit_code: _configured(row) for row in rows}
    for code in codes:
        if code not in found:
            found[code] = await unit_policy(session, code)
    return found


async def put_settings(uow: UnitOfWork, unit_code: str, values: dict[str, Any]) -> UnitPolicy:
    """Set a unit's settings (every field; ``values`` as :class:`LetterSettingsIn` checked them)."""
    values = {**values, "default_reason": values.get("default_reason") or DEFAULT_REASON}
    row = await uow.session.get(LetterSettings, unit_code)
    if row is None:
        row = LetterSettings(unit_code=unit_code)
        uow.session.add(row)
    for name in SETTING_FIELDS:
        setattr(row, name, values[name])
    row.updated_at = uow.clock.now()
    return UnitPolicy(unit_code=unit_code, configured=True, **{f: values[f] for f in SETTING_FIELDS})
