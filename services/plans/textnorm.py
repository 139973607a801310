"""Text folding shared by the parsers of plan tables: one spelling per Vietnamese phrase."""

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


def fold_chars(text: str) -> str:
    """``fold`` char by char, without collapsing spaces: positions in the result are positions in
    ``text``, so a pattern found in the folded text can be cut from the original."""
    return "".join((fold(c) or " ")[:1] for c in text)
