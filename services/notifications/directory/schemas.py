"""Input/output of the people and addresses of a unit."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from services.notifications.channels.addresses import email_address, vn_mobile
from shared.personal import masked
from shared.scope import Scope

ChannelName = Literal["email", "sms", "zalo"]
Phone = Annotated[str, Field(max_length=30), AfterValidator(vn_mobile)]
Email = Annotated[str, Field(max_length=320), AfterValidator(email_address)]


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    role: str | None = Field(default=None, max_length=100, description="e.g. Chủ tịch, Văn phòng")
    email: Email | None = None
    phone: Phone | None = Field(default=None, description="Vietnamese mobile: 0912345678 or +84912345678")
    zalo_phone: Phone | None = Field(default=None, description="the number the person uses Zalo with (default: phone)")
    channels: list[ChannelName] | None = Field(
        default=None, description="where reminders go; default: every channel with an address"
    )
    digest: bool = Field(default=False, description="reminders once a day in one message instead of at once")

    @model_validator(mode="after")
    def _addresses(self) -> ContactIn:
        have = {"email": self.email, "sms": self.phone, "zalo": self.zalo_phone or self.phone}
        if self.channels is None:
            self.channels = [c for c, a in have.items() if a]  # type: ignore[misc]
        missing = [c for c in self.channels if not have[c]]
        if missing:
            raise ValueError(f"no address for channel(s) {', '.join(missing)}: give email, phone or zalo_phone")
        return self


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    unit_code: str
    name: str
    role: str | None
    email: str | None
    phone: str | None
    zalo_phone: str | None
    channels: list[str]
    digest: bool
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def shown(cls, contact: object, scope: Scope) -> ContactOut:
        """The contact as ``scope`` may see it: a viewer's with its name and addresses masked."""
        out = cls.model_validate(contact)
        return out if scope.personal_data else cls.model_validate(masked(out.model_dump()))


def address_for(contact: ContactOut | object, channel: str) -> str | None:
    """The contact's address on ``channel`` (Zalo falls back to the phone number)."""
    if channel == "email":
        return getattr(contact, "email", None)
    if channel == "sms":
        return getattr(contact, "phone", None)
    return getattr(contact, "zalo_phone", None) or getattr(contact, "phone", None)
