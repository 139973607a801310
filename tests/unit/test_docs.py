"""The docs stand on what a clone has: every link and every file they name exists, and neither they nor
the code's comments send the reader to material outside the repository (the project brief's DOMAIN or
DESIGN notes, ``../shared``): the rules are in docs/domain.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PAGES = sorted([ROOT / "README.md", ROOT / "deploy" / "README.md", *(ROOT / "docs").glob("*.md")])
SOURCES = sorted(
    p for folder in ("shared", "services", "simulator", "tests", "bench") for p in (ROOT / folder).rglob("*")
    if p.suffix in (".py", ".json", ".typ", ".md") and p.is_file() and p != Path(__file__)
)  # fmt: skip
OUTSIDE = re.compile(r"DOMAIN(\.md)? §|DOMAIN\.md|DESIGN\.md|\.\./shared|project material")
LINK = re.compile(r"\]\(([^)\s]+)\)")
NAMED_PATH = re.compile(r"`((?:shared|services|simulator|tests|docs|deploy|bench)/[\w./-]+)`")
WRITTEN_BY_RUNS = ("bench/results",)  # where the benchmarks write (ignored by git): named, not shipped


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in page.read_text(encoding="utf-8").splitlines() if line.startswith("#")}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_and_named_file_of_a_page_exists(page: Path):
    text = page.read_text(encoding="utf-8")
    broken = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue  # http(s), mailto: not a file of the clone
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in anchors(linked)):
            broken.append(target)
    for named in NAMED_PATH.findall(text):
        pattern = any(c in named for c in "*<{") or named.startswith(WRITTEN_BY_RUNS)
        if not pattern and not (ROOT / named.rstrip("/.")).exists():
            broken.append(named)
    assert broken == []


def test_neither_docs_nor_code_send_the_reader_outside_the_repository():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in [*PAGES, *SOURCES]
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if OUTSIDE.search(line)
    ]
    assert found == []


def test_the_domain_page_has_the_sections_the_others_link_to():
    assert {"2-dossiers", "3-deadlines-in-working-time", "5-apology-letters", "6-the-2025-legal-changes"} <= anchors(
        ROOT / "docs" / "domain.md"
    )
