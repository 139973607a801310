"""Pydantic input/output of the letters: what they read of the dossier events, what the API says."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from shared.instants import VnInstant

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
    received_at: VnInstant | None = None
    due_at: VnInstant | None = None
    rule_set: str
    apology_letter_id: str | None = None  # overdue_after_apology


class LatenessIn(DossierFactsIn):
    """``due_soon``, ``overdue`` and ``overdue_after_apology`` always carry the due time missed."""

    due_at: VnInstant


class CalendarChangedIn(BaseModel):
    date: date
    working: bool
    removed: bool = False
    unit: str | None = None


class DossierRescheduledIn(BaseModel):
    ma_ho_so: str
    new_due_at: VnInstant | None = None


class DossierResolvedIn(BaseModel):
    ma_ho_so: str


class LetterCreate(BaseModel):
    """An officer's early letter (before the dossier is late, or with their own reason or date)."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    dossier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    """The dossier's MaHoSo"""
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=2000)] | None = None
    """Why it is late (the unit's default reason without it)"""
    new_due_at: AwareDatetime | None = None
    """The new return date (computed from the settings without it)"""


class LetterFailure(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    """Why the letter could not be delivered"""


class TemplateOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    id: str
    """The template's id (tt01_2018, tt03_2025)"""
    version: int
    """The template's version the letter renders with"""


class LetterOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    id: str
    """The letter's id"""
    ma_ho_so: str
    """The dossier's MaHoSo"""
    unit: str
    """The issuing unit's code"""
    number: str | None
    """Its number (12/PXL) once issued"""
    status: str
    """draft, approved, issued, delivered or failed"""
    regime: str
    """The legal form of the dossier's receipt date (tt01_2018, or tt03_2025 from 1 July 2025)"""
    regime_title: str
    """The form's title"""
    template: TemplateOut
    """The template it renders with"""
    channel: int
    """The dossier's channel: 1 in person (printed at the desk), 2 online (sent), 3 by post"""
    origin: str
    """What made it: due_soon, overdue or officer"""
    reason: str
    """Why the dossier is late"""
    missed_due_at: VnInstant
    """The due date missed"""
    new_due_at: VnInstant
    """The new return date the letter promises"""
    created_at: VnInstant
    """When it was made"""
    approved_at: VnInstant | None
    """When it was approved"""
    issued_at: VnInstant | None
    """When it was issued (numbered)"""
    delivered_at: VnInstant | None
    """When it reached the applicant"""
    failed_at: VnInstant | None
    """When its delivery failed"""
    failure_reason: str | None
    """Why its delivery failed"""
    escalated_at: VnInstant | None
    """When the promised date passed too and the unit's head was told"""


class LetterList(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[LetterOut]
    """The letters"""


class ShortTextOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    channel: str
    """sms or zalo"""
    text: str
    """The letter as a short message"""
    limit: int
    """The channel's length limit"""


class LetterSettingsIn(BaseModel):
    """A unit's letterhead, signer and policy. ``procedure_extensions`` maps a procedure code
    (MaTTHC) to its own number of working days."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    issuing_body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=300)]
    """The issuing body, printed upper case and bold (e.g. Ủy ban nhân dân xã Cẩm Quang)"""
    superior_body: Text = ""
    """The superior body printed above it"""
    place_name: Text = ""
    """The place in the dateline (Cẩm Quang, ngày …)"""
    signer_authority: Text = ""
    """The signer's authority, e.g. KT. Chủ tịch"""
    signer_title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
    """The signer's title, e.g. Phó Chủ tịch"""
    signer_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
    """The signer's full name"""
    number_suffix: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-ZĐ0-9][A-ZĐ0-9-]{0,19}$")] = (
        "PXL"
    )
    """The letter number's suffix (12/PXL)"""
    one_stop_name: Text = "Bộ phận Một cửa"
    """The one-stop desk's name among the recipients"""
    default_reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=2000)] | None = (
        None
    )
    """The reason written when none is given"""
    auto_issue: bool = False
    """Issue letters on their own (numbered and sent) instead of leaving drafts to approve"""
    draft_on_due_soon: bool = True
    """Prepare a draft as soon as the apology falls due (one working day before the due date)"""
    extension_working_days: Annotated[int, Field(ge=1, le=60)] = 5
    """Working days the new return date adds to the missed one"""
    procedure_extensions: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=64)], Annotated[int, Field(ge=1, le=60)]
    ] = {}
    """Other extensions by procedure code (MaTTHC)"""
    phone_channel: Literal["sms", "zalo"] = Field(
        default="sms",
        description="how a letter's short form reaches the applicant's mobile number: by SMS, or through the "
        "province's Zalo Official Account (Zalo ZNS)",
    )


class LetterSettingsOut(LetterSettingsIn):
    model_config = ConfigDict(use_attribute_docstrings=True, extra="ignore")

    unit_code: str
    """The unit"""
    # As stored or derived, not held to an officer's input rules: a unit the directory does not
    # know has its code as issuing body, and the built-in settings name no signer.
    issuing_body: str
    """The issuing body, printed upper case and bold; a unit the directory does not know: its code"""
    signer_name: str
    """The signer's full name; empty in the built-in settings"""
    default_reason: str
    """The reason written when none is given"""
    configured: bool
    """false: the default or built-in settings apply"""
