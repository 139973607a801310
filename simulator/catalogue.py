"""What the simulated province offers: procedures (``procedures.json``), agencies and people's names.

The procedure codes (MaTTHC) and field codes look like those of the national procedure database
but are demo data: check them against it before using them as reference data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from shared.calendar import DurationUnit

PROCEDURES_FILE = Path(__file__).with_name("procedures.json")
# Procedures of the live demo only (``--demo``): fictional, with legal times of minutes, and often late
DEMO_PROCEDURES_FILE = Path(__file__).with_name("demo_procedures.json")

Level = Literal["commune", "province"]


@dataclass(frozen=True)
class Fee:
    code: str
    name: str
    amount: int

    @property
    def kind(self) -> int:
        """LoaiPhiLePhi: 1 phí, 2 lệ phí."""
        return 2 if self.name.startswith("Lệ phí") else 1


@dataclass(frozen=True)
class Procedure:
    """A TTHC with its legal time; ``weight`` is its share of the dossiers, ``online`` whether it is
    offered fully online ("full") or partly ("partial")."""

    ma_tthc: str
    name: str
    field_code: str
    field_name: str
    amount: float
    unit: DurationUnit
    same_day_cutoff: bool
    fees: tuple[Fee, ...]
    level: Level
    online: Literal["full", "partial"]
    weight: int
    documents: tuple[str, ...]
    result: str
    officer: str
    late: float | None = None  # share finished after the due time (the workload's LATE when None)
    late_minutes: tuple[int, int] | None = None  # how late those are (the workload's range when None)


@dataclass(frozen=True)
class Agency:
    """An agency that receives dossiers; ``fields`` limits a department to its procedure fields."""

    code: str
    name: str
    level: Level
    desk: str
    weight: int = 1
    fields: tuple[str, ...] = ()

    def handles(self, procedure: Procedure) -> bool:
        return procedure.level == self.level and (not self.fields or procedure.field_code in self.fields)


def load_procedures(path: Path = PROCEDURES_FILE) -> tuple[Procedure, ...]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    return tuple(
        Procedure(
            **{
                **row,
                "unit": DurationUnit(row["unit"]),
                "fees": tuple(Fee(**fee) for fee in row["fees"]),
                "documents": tuple(row["documents"]),
                "late_minutes": tuple(row["late_minutes"]) if "late_minutes" in row else None,
            }
        )
        for row in rows
    )


PROCEDURES = load_procedures()
DEMO_PROCEDURES = load_procedures(DEMO_PROCEDURES_FILE)

_PROVINCE_DESK = "Trung tâm Phục vụ hành chính công tỉnh Hà Tĩnh"
AGENCIES: tuple[Agency, ...] = (
    Agency("000.00.12.H42", "UBND xã Cẩm Quang", "commune", "Bộ phận một cửa UBND xã Cẩm Quang", weight=3),
    Agency("000.21.27.H42", "UBND xã Thiên Cầm", "commune", "Bộ phận một cửa UBND xã Thiên Cầm", weight=2),
    Agency("000.22.27.H42", "UBND xã Cẩm Duệ", "commune", "Bộ phận một cửa UBND xã Cẩm Duệ", weight=2),
    Agency("000.23.27.H42", "UBND xã Cẩm Hưng", "commune", "Bộ phận một cửa UBND xã Cẩm Hưng"),
    Agency("000.00.07.H42", "Sở Tư pháp tỉnh Hà Tĩnh", "province", _PROVINCE_DESK, fields=("G15",)),
    Agency("000.00.06.H42", "Sở Tài chính tỉnh Hà Tĩnh", "province", _PROVINCE_DESK, fields=("G06",)),
    Agency("000.00.14.H42", "Sở Nông nghiệp và Môi trường tỉnh Hà Tĩnh", "province", _PROVINCE_DESK, fields=("G07",)),
    Agency("000.00.11.H42", "Sở Y tế tỉnh Hà Tĩnh", "province", _PROVINCE_DESK, fields=("G17",)),
)

FAMILY_NAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý")
MIDDLE_NAMES = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Thị Thu", "Ngọc", "Quang", "Thanh", "Xuân", "Thị Hồng", "Công")
GIVEN_NAMES = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hà",
    "Hải",
    "Hạnh",
    "Hòa",
    "Hùng",
    "Hương",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Nga",
    "Phúc",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Thắng",
    "Trang",
    "Tuấn",
    "Vy",
    "Yến",
)
BUSINESS_NAMES = ("Công ty TNHH Thương mại", "Công ty TNHH Xây dựng", "Công ty TNHH Dịch vụ", "Công ty TNHH Nông sản")
