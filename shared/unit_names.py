"""Tolerant matching of agency names as people write them to registered units.

"Phòng Tư pháp huyện", "P. Tư pháp", "phòng tư pháp  HUYỆN" and "Ủy ban nhân dân xã Cẩm Quang" /
"UBND xã Cẩm Quang" / "Xã Cẩm Quang" name the same agencies. A name is looked up in turn as
written (case and spacing aside), by its folded key (no diacritics, abbreviations expanded), by
its normalised key ("UBND", "huyện"/"xã" and a trailing place trimmed), then by a conservative
fuzzy match of normalised keys. A name that fits two targets matches nothing: it is never guessed.

Used by ``plans`` (the "Chủ trì"/"Phối hợp" cells of plan tables) and ``dossiers`` (DonViXuLy).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import SequenceMatcher

from shared.textnorm import fold, nfc

FUZZY_THRESHOLD = 0.9
FUZZY_RIVAL_MARGIN = 0.05  # a second target scoring this close to the best makes the name ambiguous
MEMO_SIZE = 4096  # names remembered per matcher; partner systems repeat a few names endlessly

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
# A registered name ends with its place ("Phòng Tư pháp huyện Cẩm Xuyên"); people often leave it out.
_PLACE_SUFFIX = re.compile(r" (huyen|tinh|thanh pho|thi xa|xa|phuong|thi tran) [a-z ]+$")
_STOP_WORDS = {"va", "cua"}


class NameMatcher:
    """Names → the target (a unit code, or any key the caller chooses) they designate."""

    def __init__(self, entries: Iterable[tuple[str, Iterable[str]]]) -> None:
        """``entries``: each target with its names (a registered name and its aliases)."""
        self._exact: dict[str, set[str]] = {}
        self._full: dict[str, set[str]] = {}
        self._keys: dict[str, set[str]] = {}
        self._memo: dict[str, str | None] = {}
        for target, names in entries:
            for name in names:
                self._exact.setdefault(_plain(name), set()).add(target)
                self._full.setdefault(_full_key(name), set()).add(target)
                self._keys.setdefault(normalise(name), set()).add(target)
                without_place = _PLACE_SUFFIX.sub("", _full_key(name))
                if len(without_place.split()) >= 2:
                    self._keys.setdefault(normalise(without_place), set()).add(target)

    def match(self, name: str) -> str | None:
        """The one target ``name`` designates, or None (unknown, or ambiguous)."""
        if name not in self._memo:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            self._memo[name] = self._lookup(name)
        return self._memo[name]

    def _lookup(self, name: str) -> str | None:
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
        scored = sorted(((_similarity(key, other), other) for other in self._keys if other), reverse=True)
        if not scored or scored[0][0] < FUZZY_THRESHOLD:
            return None
        best_score, best = scored[0]
        rivals = [
            o for s, o in scored[1:] if s >= best_score - FUZZY_RIVAL_MARGIN and self._keys[o] != self._keys[best]
        ]
        if rivals or len(self._keys[best]) != 1 or key.split()[0] != best.split()[0]:
            return None
        return next(iter(self._keys[best]))


def _similarity(key: str, other: str) -> float:
    """``SequenceMatcher.ratio``, or 0 when its cheap upper bounds show that ``other`` can be
    neither the best match nor a rival of it (the full ratio is the costly part)."""
    matcher = SequenceMatcher(None, key, other)
    floor = FUZZY_THRESHOLD - FUZZY_RIVAL_MARGIN
    if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
        return 0.0
    return matcher.ratio()


def normalise(name: str) -> str:
    """The comparison key of an agency name: "Văn phòng HĐND&UBND huyện" → "van phong hdnd ubnd".

    Beyond :func:`_full_key`, it trims what people add or omit at will: a trailing "huyện"/"tỉnh"
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
