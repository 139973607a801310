"""Folding Vietnamese text for comparisons: one spelling per phrase, whatever its diacritics or case."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    """Compose combining diacritics (Windows-1258 text decomposes them) and trim."""
    return unicodedata.normalize("NFC", text).strip()


def fold(text: str) -> str:
    """Lowercase, strip diacritics (đ → d), unify "hằng"/"hàng", collapse whitespace.

    The result keeps punctuation and the length relation of words, so patterns can be written
    in plain ASCII: ``fold("Quý IV/2024") == "quy iv/2024"``.
    """
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", bare.lower()).strip()
