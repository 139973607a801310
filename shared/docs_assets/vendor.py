"""Pin the browser assets of the docs pages (Swagger UI, GraphiQL) into this package.

Run by a maintainer, never at run time: ``make docs-assets`` (``python -m shared.docs_assets.vendor``).
For each pinned npm package it fetches the release tarball with ``npm pack`` (the registry's
ordinary client, which checks the tarball against the registry's sha512), refuses a tarball whose
sha512 differs from the one the manifest already recorded for that version, copies the files the
pages load and the package's licence texts, and writes ``manifest.json``: version, licence,
tarball integrity, and each file's SRI hash, which the pages put in their ``integrity``
attributes so the browser checks every file it runs. Bump a version below and run it again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
MANIFEST = HERE / "manifest.json"


@dataclass(frozen=True)
class Pin:
    package: str
    version: str
    directory: str  # under ``static/`` (a Python identifier, so setuptools ships it as package data)
    files: tuple[str, ...]  # paths inside the tarball's ``package/`` the pages load
    licences: tuple[str, ...]  # the licence texts shipped beside them


PINS = (
    Pin(
        "swagger-ui-dist",
        "5.36.0",
        "swagger_ui",
        ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"),
        ("LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt"),
    ),
    Pin("graphiql", "3.8.3", "graphiql", ("graphiql.min.js", "graphiql.min.css"), ("LICENSE",)),
    Pin("react", "18.2.0", "react", ("umd/react.production.min.js",), ("LICENSE",)),
    Pin("react-dom", "18.2.0", "react_dom", ("umd/react-dom.production.min.js",), ("LICENSE",)),
)


def sri(data: bytes) -> str:
    """The Subresource Integrity hash of ``data`` (``sha384-<base64>``)."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def _pack(pin: Pin, workdir: Path) -> tuple[Path, str]:
    """Fetch ``pin``'s tarball with npm; returns its path and the registry's integrity."""
    spec = f"{pin.package}@{pin.version}"
    out = subprocess.run(["npm", "pack", "--json", spec], cwd=workdir, check=True, capture_output=True, text=True)
    info = json.loads(out.stdout)[0]
    return workdir / info["filename"], info["integrity"]


def vendor(pin: Pin, workdir: Path, recorded: dict[str, dict[str, object]]) -> dict[str, object]:
    tarball, integrity = _pack(pin, workdir)
    previous = recorded.get(pin.package)
    if previous and previous["version"] == pin.version and previous["integrity"] != integrity:
        raise SystemExit(
            f"{pin.package}@{pin.version}: tarball {integrity} is not the recorded {previous['integrity']}"
        )
    target = HERE / "static" / pin.directory
    target.mkdir(exist_ok=True)
    for stale in target.iterdir():
        stale.unlink()
    hashes: dict[str, str] = {}
    with tarfile.open(tarball) as archive:
        licence = json.loads(_read(archive, "package.json"))["license"]
        for path in pin.files + pin.licences:
            data = _read(archive, path)
            name = Path(path).name
            (target / name).write_bytes(data)
            if path in pin.files:
                hashes[name] = sri(data)
    return {
        "version": pin.version,
        "licence": licence,
        "integrity": integrity,
        "directory": pin.directory,
        "files": hashes,
        "licence_files": [Path(p).name for p in pin.licences],
    }


def _read(archive: tarfile.TarFile, path: str) -> bytes:
    member = archive.extractfile(f"package/{path}")
    if member is None:
        raise SystemExit(f"package/{path} is not a file")
    return member.read()


def main() -> None:
    recorded = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}
    with tempfile.TemporaryDirectory() as workdir:
        manifest = {pin.package: vendor(pin, Path(workdir), recorded) for pin in PINS}
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
    sys.stdout.write(f"wrote {MANIFEST} ({len(manifest)} packages)\n")


if __name__ == "__main__":
    main()
