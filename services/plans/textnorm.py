"""Text folding shared by the parsers of plan tables: one spelling per Vietnamese phrase.

``nfc`` and ``fold`` live in :mod:`shared.textnorm` (the dossiers service matches unit names
with them too); the position-keeping ``fold_chars`` is the plan parsers' own.
"""

from __future__ import annotations

from shared.textnorm import fold, nfc

__all__ = ["fold", "fold_chars", "nfc"]


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
    (code, _fold_char(chr(code)))
    for block in (range(0x250), range(0x300, 0x370), range(0x1E00, 0x1F00))
    for code in block
)


def fold_chars(text: str) -> str:
    """``fold`` char by char, without collapsing spaces: positions in the result are positions in
    ``text``, so a pattern found in the folded text can be cut from the original."""
    return text.translate(_FOLD_TABLE)
