"""Text folding shared by the parsers of plan tables: one spelling per Vietnamese phrase.

``nfc`` and ``fold`` live in :mod:`shared.textnorm` (the dossiers service matches unit names
with them too); the position-keeping ``fold_chars`` is the plan parsers' own.
"""

from __future__ import annotations

from shared.textnorm import fold, nfc

__all__ = ["fold", "fold_chars", "nfc"]


def fold_chars(text: str) -> str:
    """``fold`` char by char, without collapsing spaces: positions in the result are positions in
    ``text``, so a pattern found in the folded text can be cut from the original."""
    return "".join((fold(c) or " ")[:1] for c in text)
