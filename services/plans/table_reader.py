"""Read a plan's appendix table (CSV or XLSX) as officers have it, into canonical rows.

CSV may be UTF-8 (with or without BOM) or Windows-1258, delimited by ``,``, ``;`` or tab; all text
is normalised to NFC. Headers are matched case-, diacritic- and whitespace-insensitively; the
header row may sit below a title (the first of the first 20 rows naming a title column is taken).
Rows are streamed: a large file is never held as a list of rows by :func:`iter_rows`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from services.plans.textnorm import fold, nfc

COLUMNS: dict[str, tuple[str, ...]] = {
    "section": ("phan",),
    "label": ("stt", "tt", "so tt"),
    "title": ("nhiem vu", "noi dung", "noi dung cong viec", "ten nhiem vu"),
    "schedule": ("tien do", "thoi gian", "thoi gian hoan thanh", "thoi gian thuc hien"),
    "lead": ("co quan chu tri", "chu tri", "don vi chu tri", "co quan thuc hien"),
    "coordinating": ("co quan phoi hop", "phoi hop", "don vi phoi hop"),
    "product": ("ket qua san pham", "san pham", "ket qua"),
    "objective": ("muc tieu",),
    "activity": ("hoat dong",),
    "budget": ("kinh phi",),
    "note": ("ghi chu",),
}
REQUIRED = ("title", "lead")
_HEADER_KEYS = {variant: column for column, variants in COLUMNS.items() for variant in variants}
_HEADER_SEARCH_ROWS = 20
_SAMPLE_BYTES = 64 * 1024
_UNITS = {"ty": 10**9, "trieu": 10**6, "nghin": 10**3, "ngan": 10**3}
_ROMAN_HEADING = re.compile(r"[IVXL]+(?:[.)]|\s|$)")


class TableError(ValueError):
    """A table that cannot be read; ``column`` names the canonical column at fault, if any."""

    code = "table-unreadable"

    def __init__(self, message: str, column: str | None = None) -> None:
        super().__init__(message)
        self.column = column


class UnsupportedFormat(TableError):
    code = "table-format"


class UnreadableEncoding(TableError):
    code = "table-encoding"


class EmptyFile(TableError):
    code = "table-empty"


class MissingColumns(TableError):
    code = "table-missing-columns"

    def __init__(self, missing: list[str], found: list[str]) -> None:
        headers = ", ".join(f"«{h}»" for h in found) or "none"
        super().__init__(f"missing column(s) {', '.join(missing)}; headers found: {headers}", missing[0])
        self.missing = missing
        self.found = found


@dataclass(frozen=True)
class TableRow:
    """One task row; text cells are "" when the table lacks the column."""

    line: int
    section: str | None
    label: str = ""
    title: str = ""
    schedule: str = ""
    lead: str = ""
    coordinating: str = ""
    product: str = ""
    objective: str = ""
    activity: str = ""
    budget: str = ""
    budget_amount: int | None = None
    note: str = ""


@dataclass(frozen=True)
class TableReadResult:
    columns: dict[str, str]  # canonical column -> header as written
    rows: list[TableRow]
    sections: list[str] = field(default_factory=list)


def read_table(data: bytes, filename: str) -> TableReadResult:
    """Read a whole table from bytes."""
    columns, rows = open_table(io.BytesIO(data), filename)
    collected = list(rows)
    sections = list(dict.fromkeys(r.section for r in collected if r.section))
    return TableReadResult(columns, collected, sections)


def iter_rows(source: IO[bytes], filename: str) -> Iterator[TableRow]:
    """Stream the rows of a seekable binary file."""
    return open_table(source, filename)[1]


def open_table(source: IO[bytes], filename: str) -> tuple[dict[str, str], Iterator[TableRow]]:
    """The column mapping (checked at once) and a lazy iterator over the task rows."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        records = _xlsx_records(source)
    elif name.endswith((".csv", ".tsv", ".txt")):
        records = _csv_records(source)
    else:
        raise UnsupportedFormat(f"{filename}: expected a .csv or .xlsx file")
    headers = _find_header(records)
    mapping = _map_headers(headers)
    columns = {column: headers[i] for column, i in mapping.items()}
    return columns, _rows(records, mapping, _budget_scale(columns.get("budget", "")))


def _find_header(records: Iterator[tuple[int, list[str]]]) -> list[str]:
    """The first row naming a title column among the first non-empty ones, else the first row."""
    first: list[str] | None = None
    for count, (_, cells) in enumerate(r for r in records if any(r[1])):
        first = first or cells
        if "title" in _map_headers(cells, check=False):
            return cells
        if count + 1 >= _HEADER_SEARCH_ROWS:
            break
    if first is None:
        raise EmptyFile("the file has no rows")
    return first


def _map_headers(headers: list[str], check: bool = True) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for i, header in enumerate(headers):
        key = re.sub(r"[^a-z0-9]+", " ", fold(re.sub(r"\(.*?\)", "", header))).strip()
        column = _HEADER_KEYS.get(key)
        if column and column not in mapping:
            mapping[column] = i
    missing = [c for c in REQUIRED if c not in mapping]
    if check and missing:
        raise MissingColumns(missing, [h for h in headers if h])
    return mapping


def _rows(records: Iterator[tuple[int, list[str]]], mapping: dict[str, int], scale: int) -> Iterator[TableRow]:
    section: str | None = None
    seen_any = False
    for line, cells in records:
        values = {c: cells[i] if i < len(cells) else "" for c, i in mapping.items()}
        filled = [v for v in cells if v]
        if not filled:
            continue
        heading = _section_heading(values, filled)
        if heading:
            section = heading
            continue
        section = values.pop("section", "") or section
        budget = values.get("budget", "")
        seen_any = True
        yield TableRow(line=line, section=section, budget_amount=parse_budget(budget, scale), **values)
    if not seen_any:
        raise EmptyFile("the table has a header but no rows")


def _section_heading(values: dict[str, str], filled: list[str]) -> str | None:
    """A heading row: one filled cell "I. ..." / "Phần ...", or a Roman label with its title only."""
    if len(filled) == 1 and (_ROMAN_HEADING.match(filled[0]) or fold(filled[0]).startswith("phan ")):
        return filled[0]
    label, title = values.get("label", ""), values.get("title", "")
    if len(filled) == 2 and label and title and re.fullmatch(r"[ivxl]+\.?", fold(label)):
        return f"{label} {title}"
    return None


def parse_budget(text: str, scale: int = 1) -> int | None:
    """An amount in đồng: "50 triệu đồng" → 50_000_000, "1,5 tỷ" → 1_500_000_000, "200.000.000đ".

    ``scale`` multiplies a number without unit or currency (a "Kinh phí (triệu đồng)" column). Text without a number,
    such as "Ngân sách huyện", gives None.
    """
    t = fold(text)
    if m := re.search(r"(\d[\d.,]*)\s*(ty|trieu|nghin|ngan)\b", t):
        number, factor = m.group(1).rstrip(".,"), _UNITS[m.group(2)]
    elif m := re.fullmatch(r"(\d[\d.,]*)\s*(d|dong|vnd)?", t):
        number, factor = m.group(1).rstrip(".,"), 1 if m.group(2) else scale
    else:
        return None
    if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?", number) or re.fullmatch(r"\d+(,\d+)?", number):
        value = float(number.replace(".", "").replace(",", "."))  # Vietnamese: 1.500.000,5
    else:
        value = float(number.replace(",", ""))  # 1,500,000 or 1.5
    return round(value * factor)


def _budget_scale(header: str) -> int:
    unit = fold(header)
    return 10**9 if "ty dong" in unit else 10**6 if "trieu" in unit else 10**3 if "nghin" in unit else 1


def _csv_records(source: IO[bytes]) -> Iterator[tuple[int, list[str]]]:
    sample = source.read(_SAMPLE_BYTES)
    source.seek(0)
    if not sample.strip():
        raise EmptyFile("the file is empty")
    encoding = _detect_encoding(sample)
    text = io.TextIOWrapper(source, encoding=encoding, newline="")
    head = codecs.decode(sample, encoding, errors="ignore")
    return _numbered(text, csv.reader(text, delimiter=_delimiter(head)), encoding)


def _numbered(text: io.TextIOWrapper, reader: Any, encoding: str) -> Iterator[tuple[int, list[str]]]:
    line = 1
    try:
        for cells in reader:
            yield line, [nfc(c) for c in cells]
            line = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise UnreadableEncoding(f"not valid {encoding} after line {line}") from exc
    finally:
        if not text.closed:
            text.detach()  # leave the caller's file open


def _detect_encoding(sample: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1258"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            decoder.decode(sample, final=len(sample) < _SAMPLE_BYTES)
        except UnicodeDecodeError:
            continue
        return encoding
    raise UnreadableEncoding("the file is neither UTF-8 nor Windows-1258 text")


def _delimiter(head: str) -> str:
    try:
        return csv.Sniffer().sniff(head[:8192], delimiters=",;\t").delimiter
    except csv.Error:
        first = head.splitlines()[0] if head else ""
        return max(",;\t", key=first.count)


def _xlsx_records(source: IO[bytes]) -> Iterator[tuple[int, list[str]]]:
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise UnsupportedFormat("not a readable .xlsx workbook") from exc
    sheet = workbook.worksheets[0]
    return _sheet_rows(workbook, sheet.iter_rows(values_only=True))


def _sheet_rows(workbook: Any, rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[int, list[str]]]:
    try:
        for line, values in enumerate(rows, start=1):
            yield line, [_cell_text(v) for v in values]
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    return nfc(str(value))
