"""Text folding: ``fold_chars`` folds like ``fold`` one character at a time and keeps positions."""

from __future__ import annotations

import unicodedata

from services.plans.textnorm import fold, fold_chars

VIETNAMESE = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"


def test_every_vietnamese_letter_folds_to_its_bare_ascii_letter_in_both_cases():
    letters = VIETNAMESE + VIETNAMESE.upper()
    assert fold_chars(letters) == fold(letters)
    assert set(fold_chars(letters)) == set("aeiouyd")


def test_it_matches_fold_char_by_char_on_any_character():
    sample = "".join(chr(c) for c in (*range(0x3000), *range(0x1E00, 0x1F00), 0x2026, 0x2013, 0xFB01, 0x130, 0x1F600))
    assert fold_chars(sample) == "".join((fold(c) or " ")[:1] for c in sample)


def test_positions_are_kept_so_a_match_can_be_cut_from_the_original():
    text = unicodedata.normalize("NFD", "Phòng Nội vụ\thuyện; UBND các xã…")  # decomposed marks become spaces
    folded = fold_chars(text)
    assert len(folded) == len(text)
    start = folded.index("huye")
    assert unicodedata.normalize("NFC", text[start : start + 7]).startswith("huyện")
