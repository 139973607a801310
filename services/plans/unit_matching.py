"""Tolerant matching of the agency names written in "Chủ trì" / "Phối hợp" cells to registered units.

A cell is split into names (:meth:`UnitMatcher.split`), then each name is looked up: an exact name
or alias first, then equal normalised keys (no diacritics, abbreviations expanded, "huyện"/"UBND"
trimmed), then a conservative fuzzy match of keys. Ambiguous names match nothing: a name is never
guessed between two units.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from itertools import pairwise

from services.plans.textnorm import fold, fold_chars, nfc

FUZZY_THRESHOLD = 0.9


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


# Multi-word abbreviations first (their parts would be expanded wrongly alone), then single words.
_ABBREVIATIONS = [
    (r"\bvh\s*(?:&|-)?\s*tt\b", "van hoa thong tin"),
    (r"\btc\s*(?:&|-)?\s*kh\b", "tai chinh ke hoach"),
    (r"\bkt\s*(?:&|-)?\s*(?:ht|ha tang)\b", "kinh te ha tang"),
    (r"\bgd\s*(?:&|-)?\s*dt\b", "giao duc dao tao"),
    (r"\btn\s*(?:&|-)?\s*mt\b", "tai nguyen moi truong"),
    (r"\bld\s*-?\s*tb\s*(?:&|-)?\s*xh\b", "lao dong thuong binh xa hoi"),
    (r"\buy ban nhan dan\b|\bub\b(?= nd)|\bubnd\b", "ubnd"),
    (r"\bhoi dong nhan dan\b", "hdnd"),
    (r"\b(?:uy ban |ub ?)?(?:mat tran to quoc(?: viet nam)?|mttq)\b", "mttq"),
    (r"\bvp\b", "van phong"),
    (r"\bp\.", "phong "),
    (r"^tt\b", "trung tam"),
    (r"^ca\b", "cong an"),
    (r"\bbch\b", "ban chi huy"),
    (r"\bhcc\b", "hanh chinh cong"),
    (r"\bsncl\b", "su nghiep cong lap"),
    (r"\bdvsn\b", "don vi su nghiep"),
    (r"\btruc thuoc\b", "thuoc"),
]
_PLACE_WORDS = {"huyen", "tinh", "xa", "phuong"}
_TRIMMED_SUFFIXES = (["cap", "huyen"], ["cap", "tinh"], ["huyen"], ["tinh"], ["thuoc", "ubnd"])
# A registered name ends with its place ("Phòng Tư pháp huyện Cẩm Xuyên"); plans often leave it out.
_PLACE_SUFFIX = re.compile(r" (huyen|tinh|thanh pho|thi xa|xa|phuong|thi tran) [a-z ]+$")
_STOP_WORDS = {"va", "cua"}

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
        self._exact: dict[str, set[str]] = {}
        self._full: dict[str, set[str]] = {}
        self._keys: dict[str, set[str]] = {}
        for kind, ref in [("unit", u) for u in units] + [("group", g) for g in groups]:
            target = f"{kind}:{ref.code}"
            for name in (ref.name, *ref.aliases):
                self._exact.setdefault(_plain(name), set()).add(target)
                self._full.setdefault(_full_key(name), set()).add(target)
                self._keys.setdefault(normalise(name), set()).add(target)
                without_place = _PLACE_SUFFIX.sub("", _full_key(name))
                if len(without_place.split()) >= 2:
                    self._keys.setdefault(normalise(without_place), set()).add(target)

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
        lookups = ((self._exact, _plain(name)), (self._full, _full_key(name)), (self._keys, normalise(name)))
        for index, key in lookups:
            targets = index.get(key, set())
            if len(targets) == 1:
                return next(iter(targets))
            if targets:
                return None
        return self._fuzzy(normalise(name))

    def _fuzzy(self, key: str) -> str | None:
        if not key:
            return None
        scored = sorted(
            ((SequenceMatcher(None, key, other).ratio(), other) for other in self._keys if other),
            reverse=True,
        )
        if not scored or scored[0][0] < FUZZY_THRESHOLD:
            return None
        best_score, best = scored[0]
        rivals = [o for s, o in scored[1:] if s >= best_score - 0.05 and self._keys[o] != self._keys[best]]
        if rivals or len(self._keys[best]) != 1 or key.split()[0] != best.split()[0]:
            return None
        return next(iter(self._keys[best]))

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


def normalise(name: str) -> str:
    """The comparison key of an agency name: "Văn phòng HĐND&UBND huyện" → "van phong hdnd ubnd".

    Beyond :func:`_full_key`, it trims what plans add or omit at will: a trailing "huyện"/"tỉnh"
    or "thuộc UBND", a leading "UBND" and "xã"/"huyện" before a place name, a leading "Các".
    """
    words = _full_key(name).split()
    trimmed = True
    while trimmed:
        trimmed = False
        for suffix in _TRIMMED_SUFFIXES:
            rest = words[: -len(suffix)]
            if words[-len(suffix) :] == suffix and rest and rest != ["ubnd"]:
                words, trimmed = rest, True
    if words[:1] == ["ubnd"] and len(words) >= 3:
        words = words[1:]
    if words[:1] and words[0] in _PLACE_WORDS and len(words) >= 3:  # "xã Cẩm Quang" → "cam quang"
        words = words[1:]
    if words[:1] == ["cac"] and len(words) >= 2:
        words = words[1:]
    return " ".join(words)


def _full_key(name: str) -> str:
    """Folded, abbreviations expanded, punctuation and "và"/"của" dropped."""
    text = fold(re.sub(r"\([^)]*\)", " ", nfc(name)))
    for pattern, replacement in _ABBREVIATIONS:
        text = re.sub(pattern, replacement, text)
    return " ".join(w for w in re.sub(r"[^a-z0-9]+", " ", text).split() if w not in _STOP_WORDS)


def _plain(name: str) -> str:
    return " ".join(nfc(name).casefold().split())


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
