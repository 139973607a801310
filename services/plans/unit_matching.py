"""Tolerant matching of the agency names written in "Chủ trì" / "Phối hợp" cells to registered units.

A cell is split into names (:meth:`UnitMatcher.split`), then each name is looked up among units and
groups by :class:`shared.unit_names.NameMatcher` (exact name or alias, then normalised keys, then a
conservative fuzzy match). Ambiguous names match nothing: a name is never guessed between two units.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from services.plans.textnorm import fold_chars, nfc
from shared.unit_names import NameMatcher


@dataclass(frozen=True)
class UnitRef:
    code: str
    name: str
    aliases: tuple[str, ...] = ()
    level: str = ""
    parent_code: str | None = None


@dataclass(frozen=True)
class GroupRef:
    """A collective name ("UBND các xã, thị trấn"): one obligation per member unit."""

    code: str
    name: str
    aliases: tuple[str, ...] = ()
    member_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CellMatch:
    units: list[str] = field(default_factory=list)  # unit codes
    groups: list[str] = field(default_factory=list)  # group codes
    unmatched: list[str] = field(default_factory=list)  # names as written


# Splitting: a comma separates two names only when a name starts after it ("…, UBND các xã"), not in
# "Các cơ quan, đơn vị" or "xã, thị trấn".
_HEAD = re.compile(
    r"(cac|phong|van phong|ubnd|uy ban|trung tam|so|cong an|ban|doan|hdnd|chu tich|thu truong|truong|"
    r"lanh dao|bch|ban chi huy|mttq|don vi|dvsn|toa an|vien kiem sat|chi cuc|kho bac|thanh vien|to chuc)\b"
)
_CATEGORY_END = re.compile(r"\b(co quan|quan|phong|ban|nganh|don vi)$")
_CONTINUATION = re.compile(r"(don vi|ban|nganh|dia phuong|phong)\b")
_COMPOUND_END = re.compile(r"\b(tai chinh|van hoa|kinh te|giao duc|tai nguyen|lao dong|hdnd|tc|vh|kt)$")
_ROLE_VERBS = re.compile(r"\s(theo dõi|dõi(?=,)|hướng dẫn|đôn đốc|thẩm định|giám sát|tham mưu)\b|\schủ trì\s*(,|$)")


class UnitMatcher:
    """Match agency names against a registry of units and groups."""

    def __init__(self, units: Iterable[UnitRef], groups: Iterable[GroupRef] = ()) -> None:
        entries = [(f"unit:{u.code}", (u.name, *u.aliases)) for u in units]
        entries += [(f"group:{g.code}", (g.name, *g.aliases)) for g in groups]
        self._names = NameMatcher(entries)

    def match(self, cell: str) -> CellMatch:
        """Split ``cell`` and look up each name; codes keep the order of the cell, once each."""
        result = CellMatch()
        for name in self.split(cell):
            target = self.match_name(name)
            if target is None:
                result.unmatched.append(name)
                continue
            kind, code = target.split(":", 1)
            found = result.units if kind == "unit" else result.groups
            if code not in found:
                found.append(code)
        return result

    def match_name(self, name: str) -> str | None:
        """``"unit:<code>"`` or ``"group:<code>"`` for one agency name, or None."""
        return self._names.match(name)

    @staticmethod
    def split(cell: str) -> list[str]:
        """The agency names of a cell, as written, without notes such as "(chủ trì …)" or "theo dõi"."""
        text = re.sub(r"\([^)]*\)", " ", nfc(cell))
        names: list[str] = []
        for segment in re.split(r"[\n;|+]+", text):
            for piece in _bullets(segment.strip()):
                for part in _split_before_communes(piece):
                    names.extend(_named_communes(part) or _split_commas(part))
        cleaned = (_clean(n) for n in names)
        return [n for n in cleaned if n]


def _bullets(segment: str) -> list[str]:
    """Bulleted "- A - B" lists; a dash inside "Tài chính - Kế hoạch" is kept."""
    if not segment.startswith("-"):
        return [segment]
    pieces: list[str] = []
    for piece in re.split(r"\s+-\s*", segment.lstrip("- ")):
        if pieces and _COMPOUND_END.search(fold_chars(pieces[-1]).strip()):
            pieces[-1] = f"{pieces[-1]} - {piece}"
        else:
            pieces.append(piece)
    return pieces


def _split_before_communes(piece: str) -> list[str]:
    """Cut before "các xã" ("Các cơ quan chuyên môn các xã, thị trấn"), not in "UBND các xã"."""
    shadow = fold_chars(piece)
    cuts = [
        m.start()
        for m in re.finditer(r"(?<=\s)cac xa\b", shadow)
        if not re.search(r"(ubnd|dan)\s$", shadow[: m.start()])
    ]
    bounds = [0, *cuts, len(piece)]
    return [piece[a:b] for a, b in pairwise(bounds) if piece[a:b].strip()]


def _named_communes(part: str) -> list[str]:
    """Named communes: "UBND các xã Cẩm Quang, Cẩm Thành và Cẩm Mỹ" → ["xã Cẩm Quang", "xã Cẩm Thành", …]."""
    shadow = fold_chars(part)
    m = re.match(r"\s*(?:ubnd |uy ban nhan dan )?cac (xa|phuong) (?!thi tran)", shadow)
    if not m or "," not in part:
        return []
    level = part[m.start(1) : m.end(1)]
    return [f"{level} {name.strip()}" for name in re.split(r",|\svà\s", part[m.end() :]) if name.strip()]


def _split_commas(part: str) -> list[str]:
    shadow = fold_chars(part)
    names, start = [], 0
    for comma in (m.start() for m in re.finditer(r",", shadow)):
        before, after = shadow[start:comma].strip(), shadow[comma + 1 :].strip()
        if _HEAD.match(after) and not (_CATEGORY_END.search(before) and _CONTINUATION.match(after)):
            names.append(part[start:comma])
            start = comma + 1
    names.append(part[start:])
    return [n for p in names for n in re.split(r"\s+và\s+(?=các\b)", p, flags=re.IGNORECASE)]


def _clean(name: str) -> str:
    name = name.split(":", 1)[0]
    verb = _ROLE_VERBS.search(name.lower().rstrip(" .,"))
    if verb and len(name[: verb.start()].split()) >= 2:
        name = name[: verb.start()]
    name = " ".join(name.strip(" -+.,;").split())
    return name[:1].upper() + name[1:]
