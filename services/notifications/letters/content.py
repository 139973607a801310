"""What a letter says: the data its template renders, built from the dossier, the unit's policy
and the regime. Dates and times are written the Vietnamese way, in Vietnam time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.notifications.letters.models import LetterDossier
from services.notifications.letters.policy import UnitPolicy
from shared.clock import VN_TZ
from shared.personal import mask_name

NUMBER_PLACEHOLDER = "      "  # a draft's number is left blank, as on paper


def place_and_date(place: str, day: datetime) -> str:
    """``Cẩm Xuyên, ngày 05 tháng 02 năm 2024``: NĐ 30/2020 writes days below 10 and the months
    January and February with a leading zero."""
    local = day.astimezone(VN_TZ)
    month = f"{local.month:02d}" if local.month < 3 else str(local.month)
    written = f"ngày {local.day:02d} tháng {month} năm {local.year}"
    return f"{place}, {written}" if place else written.capitalize()


def instant_text(instant: datetime) -> str:
    """``09 giờ 15 phút, ngày 16/04/2024``."""
    local = instant.astimezone(VN_TZ)
    return f"{local:%H} giờ {local:%M} phút, ngày {local:%d/%m/%Y}"


def short_instant(instant: datetime) -> str:
    """``09:15 16/04/2024`` (SMS and Zalo)."""
    return f"{instant.astimezone(VN_TZ):%H:%M %d/%m/%Y}"


def letter_number(seq: int, suffix: str) -> str:
    return f"{seq}/{suffix}"


def build_content(
    dossier: LetterDossier,
    policy: UnitPolicy,
    *,
    missed_due_at: datetime,
    new_due_at: datetime,
    reason: str,
    dated: datetime,
    number: str | None,
) -> dict[str, Any]:
    """The template's input (``sys.inputs.letter``): plain strings and lists only."""
    details = []
    if dossier.applicant_address:
        details.append(f"Địa chỉ: {dossier.applicant_address}")
    if dossier.applicant_phone:
        details.append(f"Số điện thoại: {dossier.applicant_phone}")
    received = dossier.received_at
    return {
        "draft": number is None,
        "superior_body": policy.superior_body,
        "issuing_body": policy.issuing_body,
        "issuing_body_name": policy.issuing_body,
        "number": number or f"{NUMBER_PLACEHOLDER}/{policy.number_suffix}",
        "place_date": place_and_date(policy.place_name, dated),
        "addressee": f"Ông/Bà {dossier.applicant_name}" if dossier.applicant_name else "Ông/Bà/Tổ chức có hồ sơ",
        "reason": reason,
        "new_due": instant_text(new_due_at),
        "new_due_short": short_instant(new_due_at),
        "recipients": ["Như trên;", f"{policy.one_stop_name};", "Lưu: VT."],
        "signer": {"authority": policy.signer_authority, "title": policy.signer_title, "name": policy.signer_name},
        "dossier": {
            "ma_ho_so": dossier.ma_ho_so,
            "procedure_name": dossier.procedure_name or dossier.procedure_code,
            "received": instant_text(received) if received else "(không rõ)",
            "received_day": f"{received.astimezone(VN_TZ):%d/%m/%Y}" if received else "(không rõ)",
            "original_due": instant_text(missed_due_at),
            "original_due_short": short_instant(missed_due_at),
            "applicant_name": dossier.applicant_name or "",
            "applicant_details": details,
        },
    }


def masked_content(content: dict[str, Any]) -> dict[str, Any]:
    """What a letter says with the applicant's name masked and their address and phone left out:
    how a viewer, who may not see personal data, reads it."""
    dossier = content["dossier"]
    name = mask_name(dossier.get("applicant_name") or None)
    return {
        **content,
        "addressee": f"Ông/Bà {name}" if name else content["addressee"],
        "dossier": {**dossier, "applicant_name": name or "", "applicant_details": []},
    }
