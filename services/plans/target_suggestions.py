"""Suggest numeric targets (chỉ tiêu) from the Vietnamese text of a plan's objectives and results.

Suggestions, not facts: an officer confirms them. Conventions:

- "tối thiểu", "ít nhất", "từ", "không dưới", "… trở lên" → ``>=``; "trên", "hơn", "vượt" → ``>``
  (strict, docs/domain.md §1); "dưới" → ``<``; "tối đa", "không quá", "… trở xuống" → ``<=``.
- A percentage with no qualifier is a floor (``>=``: "Phấn đấu 50% …"), except 100%, which is
  ``=`` (nothing can exceed it).
- Counts are suggested only with a qualifier ("ít nhất 01 sáng kiến" → ``count >= 1``); bare
  numbers in plans are too often dates, durations or labels.
- Decimal comma: "99,9%" is 99.9.
- The metric is the first entry of :data:`METRICS` whose pattern the words around the number match
  (else the whole sentence); the level is the "cấp huyện/xã/tỉnh" named in the number's
  comma-separated chunk, else between it and its neighbouring numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from services.plans.textnorm import fold_chars, nfc

# Metric code → pattern over folded text (no diacritics), most specific first.
METRICS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (code, re.compile(pattern))
    for code, pattern in (
        ("apology.coverage", r"xin loi"),
        ("dossiers.early_rate", r"\btra (ket qua )?truoc han\b|\bgiai quyet truoc han\b(?! va)"),
        ("dossiers.on_time_rate", r"(ho so|tthc).*\bdung han\b|\bdung han\b.*\bho so\b"),
        ("dossiers.digitised_rate", r"\bso hoa\b"),
        ("payments.online_rate", r"thanh toan truc tuyen"),
        ("satisfaction.rate", r"\bhai long\b"),
        ("dossiers.online_rate", r"ho so.*truc tuyen|dich vu cong truc tuyen|\bdvc ?tt\b|truc tuyen toan trinh"),
        ("inspection.coverage", r"kiem tra.*\b(co quan|don vi|so|ubnd)\b|\b(co quan|don vi)\b.*\bkiem tra\b"),
        ("tasks.completion_rate", r"nhiem vu.*hoan thanh|hoan thanh.*nhiem vu"),
    )
)
LEVELS = (
    ("district", r"cap huyen"),
    ("commune", r"cap xa"),
    ("province", r"cap tinh"),
    ("department", r"\bcac so\b|cap so|so, ban, nganh"),
)

_FILLER = r"(?:\s+(?:la|dat|co|muc|o muc|ty le|khoang|tuong ung))*\s*$"
_QUALIFIERS = (
    (">=", re.compile(rf"\b(toi thieu|it nhat|khong thap hon|khong duoi|khong it hon){_FILLER}")),
    (">", re.compile(rf"\b(tren|hon|vuot|cao hon){_FILLER}")),
    ("<=", re.compile(rf"\b(toi da|khong qua|khong vuot qua|khong cao hon){_FILLER}")),
    ("<", re.compile(rf"\b(duoi|thap hon|it hon){_FILLER}")),
)
_PERCENT = re.compile(r"(\d+(?:[.,]\d+)?)\s*%")
_COUNT = re.compile(r"(\d+)\s+(?!%|ngay|thang|nam|gio|tuan)[a-z]")
_SENTENCES = re.compile(r"[;\n]|\.(?!\d)")


@dataclass(frozen=True)
class TargetSuggestion:
    metric_code: str | None
    operator: str
    value: Decimal
    unit: str
    strict: bool
    level: str | None
    source_text: str


def suggest_targets(text: str) -> list[TargetSuggestion]:
    """Every percentage, and every qualified count, in ``text`` as a suggested target."""
    raw = nfc(text)
    folded = fold_chars(raw)
    suggestions = []
    start = 0
    for end in [m.start() for m in _SENTENCES.finditer(folded)] + [len(folded)]:
        suggestions += _in_sentence(raw, folded, start, end)
        start = end + 1
    return suggestions


def _in_sentence(raw: str, folded: str, start: int, end: int) -> list[TargetSuggestion]:
    sentence = folded[start:end]
    found = [(m, "%") for m in _PERCENT.finditer(sentence)]
    raw_sentence = raw[start:end]
    found += [
        (m, "count") for m in _COUNT.finditer(sentence) if _qualifier(sentence[: m.start()], raw_sentence[: m.start()])
    ]
    found.sort(key=lambda item: item[0].start())
    result = []
    for i, (match, unit) in enumerate(found):
        before_at = found[i - 1][0].end() if i else 0
        after_at = found[i + 1][0].start() if i + 1 < len(found) else len(sentence)
        chunk_start = max(before_at, sentence.rfind(",", 0, match.start()) + 1)
        comma = sentence.find(",", match.end())
        chunk_end = min(after_at, comma) if comma >= 0 else after_at
        value = Decimal(match.group(1).replace(",", "."))
        operator = _qualifier(sentence[before_at : match.start()], raw_sentence[before_at : match.start()])
        after = sentence[match.end() : chunk_end]
        if operator is None:
            operator = "<=" if "tro xuong" in after else ">=" if "tro len" in after or value != 100 else "="
        context = sentence[before_at:after_at]
        metric = _metric(context) or _metric(sentence)
        source = raw[start + before_at : start + chunk_end].strip(" ,.;:-\n")
        level = _level(sentence[chunk_start:chunk_end]) or _level(context)
        result.append(TargetSuggestion(metric, operator, value, unit, operator in (">", "<"), level, source))
    return result


def _qualifier(before: str, before_raw: str) -> str | None:
    """The operator the words just before a number state; "từ" only right before it (not "tử", "tự")."""
    if re.search(r"\btừ\s*$", before_raw.lower()):
        return ">="
    return next((operator for operator, pattern in _QUALIFIERS if pattern.search(before)), None)


def _metric(text: str) -> str | None:
    return next((code for code, pattern in METRICS if pattern.search(text)), None)


def _level(text: str) -> str | None:
    return next((level for level, pattern in LEVELS if re.search(pattern, text)), None)
