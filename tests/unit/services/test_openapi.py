"""The OpenAPI of every service tells the truth a client is built from: every operation has a summary
and a description, every parameter and every field of every schema a description, every refusal it
can answer the problem+json body, and the provincial push its full national format."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.catalog import SERVICE_NAMES, definitions, settings_class
from shared.app_factory import create_service_app
from shared.runtime import Runtime

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
OPEN = {"/healthz", "/readyz"}  # answer without a key
# Every HoSo field the national format lists (DongBoHoSoMC), and a progress record's (CapNhatTienDoHoSoMC).
HOSO_FIELDS = """MaHoSo MaTTHC TenTTHC MaLinhVuc TenLinhVuc KenhThucHien ChuHoSo SoGiayToChuHoSo LoaiDoiTuong
MaDoiTuong Email SoDienThoai TrichYeuHoSo NgayNopHoSo NgayTiepNhan NgayHenTra TrangThaiHoSo NgayTra HinhThuc
NgayKetThucXuLy NgayTuChoi DonViXuLy NoiNopHoSo HoSoCoThanhPhanSoHoa TaiKhoanDuocXacThucVoiVNeID
DuocThanhToanTrucTuyen TaiLieuNop DanhSachLePhi DanhSachHoSoBoSung DanhSachGiayToKetQua""".split()
TIENDO_FIELDS = """MaHoSo NguoiXuLy ChucDanh ThoiDiemXuLy PhongBanXuLy NoiDungXuLy TrangThai NgayBatDau
NgayKetThucTheoQuyDinh""".split()
TIMESTAMPS = [f for f in HOSO_FIELDS + TIENDO_FIELDS if f.startswith(("Ngay", "ThoiDiem"))]


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    runtime = Runtime(definitions(), settings_class()(data_dir=tmp_path_factory.mktemp("openapi")))
    return {name: create_service_app(runtime[name]).openapi() for name in SERVICE_NAMES}


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_operation_parameter_and_field_is_described(specs: dict[str, Any], service: str) -> None:
    spec = specs[service]
    undescribed = [
        f"{method.upper()} {path}: {key}"
        for path, method, operation in operations(spec)
        for key in ("summary", "description")
        if not operation.get(key)
    ]
    undescribed += [
        f"{method.upper()} {path}: parameter {parameter['name']}"
        for path, method, operation in operations(spec)
        for parameter in operation.get("parameters", [])
        if not parameter.get("description")
    ]
    undescribed += [
        f"{name}.{field}"
        for name, schema in spec["components"]["schemas"].items()
        for field, definition in schema.get("properties", {}).items()
        if not definition.get("description")
    ]
    assert undescribed == []
    assert len(list(operations(spec))) >= 8


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_refusal_is_declared_as_problem_json(specs: dict[str, Any], service: str) -> None:
    spec = specs[service]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert "HTTPValidationError" not in json.dumps(spec)  # FastAPI's {detail: [...]} is not what answers
    missing = []
    for path, method, operation in operations(spec):
        responses = operation["responses"]
        expected = set() if path in OPEN else {"401", "403"}
        if operation.get("parameters") or "requestBody" in operation:
            expected |= {"400", "404", "422"}
        if method in ("post", "put", "patch", "delete"):
            expected.add("409")
        for status in expected | {s for s in responses if s[0] in "45"}:
            if responses.get(status, {}).get("content") != PROBLEM or not responses[status].get("description"):
                missing.append(f"{method.upper()} {path} {status}")
    assert missing == []
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["properties"]) == {"type", "title", "status", "detail", "code", "errors"}
    field_error = spec["components"]["schemas"]["ProblemFieldError"]
    assert set(field_error["properties"]) == {"field", "message", "type"}


def test_limits_and_readiness_declare_their_own_statuses(specs: dict[str, Any]) -> None:
    assert "413" in specs["dossiers"]["paths"]["/v1/sync/dvcqg"]["post"]["responses"]
    assert "413" in specs["plans"]["paths"]["/v1/plans:import"]["post"]["responses"]
    readiness = specs["scoring"]["paths"]["/readyz"]["get"]["responses"]
    assert readiness["503"]["content"] == PROBLEM and "401" not in readiness


def test_the_provincial_push_declares_the_national_format_with_examples(specs: dict[str, Any]) -> None:
    spec = specs["dossiers"]
    body = spec["paths"]["/v1/sync/dvcqg"]["post"]["requestBody"]["content"]["application/json"]
    refs = [one["$ref"].rsplit("/", 1)[1] for one in body["schema"]["oneOf"]]
    assert refs == ["DongBoHoSoMC", "CapNhatTienDoHoSoMC"]
    schemas = spec["components"]["schemas"]
    assert schemas["DongBoHoSoMC"]["properties"]["data"]["items"] == {"$ref": "#/components/schemas/HoSo"}
    hoso, tiendo = schemas["HoSo"]["properties"], schemas["TienDo"]["properties"]
    assert set(HOSO_FIELDS) <= set(hoso) and set(TIENDO_FIELDS) <= set(tiendo)
    for name in TIMESTAMPS:  # the format's text, not an ISO instant
        definition = hoso.get(name) or tiendo[name]
        assert "yyyyMMddHHmmss" in definition["description"], name
        assert r"\d{14}" in json.dumps(definition), name
    assert re.search(r"1 Mới đăng ký.*10 Đã trả kết quả", hoso["TrangThaiHoSo"]["description"], re.S)
    assert "2 online" in hoso["KenhThucHien"]["description"]
    for item in ("Document", "Fee", "ResultPaper", "Supplement"):
        assert all(d.get("description") for d in schemas[item]["properties"].values()), item
    examples = body["examples"]
    shipped = Path(__file__).parents[2] / "fixtures" / "dvcqg"
    assert examples["DongBoHoSoMC"]["value"] == json.loads((shipped / "dongbohosomc.json").read_text())
    assert examples["CapNhatTienDoHoSoMC"]["value"]["data"][0]["MaHoSo"] == "000.00.12.H42-240415-0008"


def written_instants(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ``date-time`` schema a response can hold (the schemas reachable from the responses)."""
    schemas, seen, found = spec["components"]["schemas"], set(), []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref and ref not in seen:
                seen.add(ref)
                walk(schemas[ref.rsplit("/", 1)[1]])
            if node.get("format") == "date-time":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for _, _, operation in operations(spec):
        walk(operation["responses"])
    return found


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_instant_a_response_holds_is_declared_in_vietnam_time(specs: dict[str, Any], service: str) -> None:
    """So a client, and the schemathesis conformance test, can hold every answer to the +07:00 offset."""
    written = written_instants(specs[service])
    assert written and all(w.get("pattern", "").endswith(r"\+07:00$") for w in written)
