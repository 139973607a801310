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


def _fold_char(char: str) -> str:
    """One character folded to exactly one (a mark or a space on its own becomes a space)."""
    return (fold(char) or " ")[:1]


class _FoldTable(dict[int, str]):
    """``str.translate`` table of :func:`_fold_char`: Latin letters, their Vietnamese forms and
    combining marks are computed up front, any other character on first sight."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _fold_char(chr(code))
        return folded


_FOLD_TABLE = _FoldTable(
    (code, _fold_char(chr(code))) for block in (range(0x250), range(0x300, 0x370), range(0x1E00, 0x1F00)) for code in block
)


def fold_chars(text: str) -> str:
    """``fold`` char by char, without collapsing spaces: positions in the result are positions in
    ``text``, so a pattern found in the folded text can be cut from the original."""
    return text.translate(_FOLD_TABLE)
