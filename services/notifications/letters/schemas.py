"""Pydantic input/output of the letters: what they read of the dossier events, what the API says."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class ProcedureIn(BaseModel):
    code: str
    name: str | None = None


class ApplicantIn(BaseModel):
    name: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None


class DossierFactsIn(BaseModel):
    """What the letters read of ``dossier.received``/``due_soon``/``overdue``/``overdue_after_apology``
    (tolerant reader: other fields are ignored; ``received`` carries no applicant)."""

    ma_ho_so: str
    unit: str
    procedure: ProcedureIn
    channel: int
    applicant: ApplicantIn | None = None
    received_at: datetime | None = None
    due_at: datetime | None = None
    rule_set: str
    apology_letter_id: str | None = None  # overdue_after_apology


class LatenessIn(DossierFactsIn):
    """``due_soon``, ``overdue`` and ``overdue_after_apology`` always carry the due time missed."""

    due_at: datetime


class CalendarChangedIn(BaseModel):
    date: date
    working: bool
    removed: bool = False
    unit: str | None = None


class DossierRescheduledIn(BaseModel):
    ma_ho_so: str
    new_due_at: datetime | None = None


class DossierResolvedIn(BaseModel):
    ma_ho_so: str


class LetterCreate(BaseModel):
    """An officer's early letter (before the dossier is late, or with their own reason or date)."""

    model_config = ConfigDict(extra="forbid")

    dossier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=2000)] | None = None
    new_due_at: AwareDatetime | None = None


class LetterFailure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class TemplateOut(BaseModel):
    id: str
    version: int


class LetterOut(BaseModel):
    id: str
    ma_ho_so: str
    unit: str
    number: str | None
    status: str
    regime: str
    regime_title: str
    template: TemplateOut
    channel: int
    origin: str
    reason: str
    missed_due_at: datetime
    new_due_at: datetime
    created_at: datetime
    approved_at: datetime | None
    issued_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    failure_reason: str | None
    escalated_at: datetime | None


class LetterList(BaseModel):
    items: list[LetterOut]


class ShortTextOut(BaseModel):
    channel: str
    text: str
    limit: int


class LetterSettingsIn(BaseModel):
    """A unit's letterhead, signer and policy. ``procedure_extensions`` maps a procedure code
    (MaTTHC) to its own number of working days."""

    model_config = ConfigDict(extra="forbid")

    issuing_body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=300)]
    superior_body: Text = ""
    place_name: Text = ""
    signer_authority: Text = ""
    signer_title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
    signer_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
    number_suffix: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-ZĐ0-9][A-ZĐ0-9-]{0,19}$")] = (
        "PXL"
    )
    one_stop_name: Text = "Bộ phận Một cửa"
    default_reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=2000)] | None = (
        None
    )
    auto_issue: bool = False
    draft_on_due_soon: bool = True
    extension_working_days: Annotated[int, Field(ge=1, le=60)] = 5
    procedure_extensions: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=64)], Annotated[int, Field(ge=1, le=60)]
    ] = {}
    phone_channel: Literal["sms", "zalo"] = Field(
        default="sms",
        description="how a letter's short form reaches the applicant's mobile number: by SMS, or through the "
        "province's Zalo Official Account (Zalo ZNS)",
    )


class LetterSettingsOut(LetterSettingsIn):
    model_config = ConfigDict(extra="ignore")

    # what a unit that set nothing answers (its code as issuing body, no signer yet): the input's
    # minimum lengths are for what is set, not for what is read
    issuing_body: str
    signer_title: str
    signer_name: str
    unit_code: str
    default_reason: str
    configured: bool
