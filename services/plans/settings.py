"""The plans service's settings (``CCHC_PLANS_*``): composed with the kernel's and the other
services' into the process's settings (shared/settings.py)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from shared.settings import Settings


class PlansSettings(Settings):
    """Task reminders and plan imports."""

    plans_database_url: SecretStr | None = None
    plans_reminder_offsets: list[int] = Field(
        default=[5, 1], description="working days before a due date at which task.due_soon is sent"
    )
    plans_reminder_hour: int = Field(
        default=7, ge=0, le=23, description="local hour (Asia/Ho_Chi_Minh) reminders go out"
    )
    plans_scheduler_max_sleep: float = Field(
        default=60.0, gt=0, description="longest nap of the reminder scheduler, seconds"
    )
    plans_import_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024, description="largest plan table accepted")
    plans_import_timeout: float = Field(
        default=600.0, gt=0, description="seconds a plan import has to upload its table and be answered"
    )

    @field_validator("plans_reminder_offsets")
    @classmethod
    def _offsets(cls, offsets: list[int]) -> list[int]:
        if any(o < 1 for o in offsets):
            raise ValueError("reminder offsets are working days before the due date: each must be >= 1")
        return sorted(set(offsets), reverse=True)
