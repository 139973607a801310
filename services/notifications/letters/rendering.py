"""Letters as PDF (typst, versioned templates, embedded Liberation Serif) and as short text.

The letter's data reaches the template as one JSON string in ``sys.inputs``; the template places
its values as text, so nothing an applicant typed is ever read as typst markup.
"""

from __future__ import annotations

import asyncio
import threading
import unicodedata
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
import typst

from services.notifications.letters.regimes import Regime, TemplateRef

TEMPLATES = Path(__file__).with_name("templates")
FONTS = Path(__file__).with_name("fonts")

# Length limits of the short forms (docs/notifications.md): one SMS of GSM-7 characters (Vietnamese
# brand-name SMS is sent without diacritics: with them, UCS-2 allows only 70 characters), and a
# Zalo OA text message kept to 500 characters (the platform allows 2,000).
SHORT_LIMITS = {"sms": 160, "zalo": 500}


def without_diacritics(text: str) -> str:
    """``Cẩm Quang`` → ``Cam Quang`` (case kept)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class UnknownTemplate(LookupError):
    pass


def template_path(template: TemplateRef) -> Path:
    path = TEMPLATES / f"{template.id}-v{template.version}.typ"
    if not path.is_file():
        raise UnknownTemplate(f"no template {template.id} version {template.version}")
    return path


@lru_cache(maxsize=16)
def _compiler(template: TemplateRef) -> tuple[typst.Compiler, threading.Lock]:
    """One compiler per template version (fonts loaded once), used by one thread at a time."""
    compiler = typst.Compiler(template_path(template), root=TEMPLATES, font_paths=[FONTS], ignore_system_fonts=True)
    return compiler, threading.Lock()


def render_pdf(content: dict[str, Any], template: TemplateRef, dated: datetime) -> bytes:
    """The letter as PDF bytes; ``dated`` is the document's creation time (same input, same bytes)."""
    compiler, lock = _compiler(template)
    with lock:
        pdf = compiler.compile(
            sys_inputs={"letter": orjson.dumps(content).decode()}, timestamp=int(dated.timestamp()), format="pdf"
        )
    assert isinstance(pdf, bytes)
    return pdf


async def render_pdf_async(content: dict[str, Any], template: TemplateRef, dated: datetime) -> bytes:
    """:func:`render_pdf` off the event loop."""
    return await asyncio.to_thread(render_pdf, content, template, dated)


def short_text(content: dict[str, Any], regime: Regime, channel: str, number: str) -> str:
    """The letter in one message for ``channel`` (``sms`` or ``zalo``), within its length limit.

    SMS is written without diacritics; when a text is too long the issuing body's name, then the
    reason, are shortened (the dossier code, the dates and the number never are)."""
    limit = SHORT_LIMITS[channel]
    pattern = regime.short_form[channel]
    dossier = content["dossier"]
    values = {
        "issuing_body": content["issuing_body_name"],
        "ma_ho_so": dossier["ma_ho_so"],
        "procedure_name": dossier["procedure_name"],
        "applicant_name": dossier["applicant_name"],
        "original_due_short": dossier["original_due_short"],
        "new_due_short": content["new_due_short"],
        "reason": content["reason"].rstrip("."),
        "number": number,
    }
    if channel == "sms":
        values = {k: without_diacritics(v) for k, v in values.items()}
    ellipsis = "..." if channel == "sms" else "…"  # GSM-7 has no "…"
    for name in ("issuing_body", "reason", "procedure_name"):
        text = pattern.format(**values)
        excess = len(text) - limit
        if excess <= 0:
            return text
        kept = max(len(values[name]) - excess - len(ellipsis), 0)
        values[name] = values[name][:kept].rstrip() + ellipsis if kept else ""
    text = pattern.format(**values)
    return text if len(text) <= limit else text[: limit - len(ellipsis)] + ellipsis
