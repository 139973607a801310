"""The pinned browser assets of the docs pages: what is shipped is what the manifest pinned, with
its licences, and the pages load nothing from elsewhere."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.docs_assets import RELEASES, STATIC, graphiql_page, install_swagger_ui
from shared.docs_assets.vendor import PINS, sri


def test_every_shipped_file_has_the_hash_the_manifest_pinned_and_its_licences_beside_it():
    assert {pin.package: pin.version for pin in PINS} == {name: r.version for name, r in RELEASES.items()}
    for pin in PINS:
        release = RELEASES[pin.package]
        folder = STATIC / release.directory
        assert {name: sri((folder / name).read_bytes()) for name in release.files} == release.files
        assert (folder / "LICENSE").read_text().strip(), pin.package
        shipped = {p.name for p in folder.iterdir()}
        assert shipped == set(release.files) | {name.rsplit("/", 1)[-1] for name in pin.licences}


def test_the_pages_load_their_scripts_and_styles_from_the_service_itself():
    service = FastAPI(docs_url=None, redoc_url=None)
    install_swagger_ui(service)
    service.get("/graphql")(graphiql_page)  # what the GraphQL router answers a browser
    root = FastAPI()
    root.mount("/dossiers", service)
    with TestClient(root) as http:
        for path in ("/dossiers/docs", "/dossiers/graphql"):
            loaded = [u for u in re.findall(r'(?:src|href)="([^"]+)"', http.get(path).text) if u != "data:,"]
            assert loaded and all(url.startswith("/dossiers/assets/") for url in loaded), loaded
            assert all(http.get(url).status_code == 200 for url in loaded)
        assert http.get("/dossiers/assets/swagger_ui/LICENSE").status_code == 200
        assert http.get("/dossiers/assets/manifest.json").status_code == 404  # only static/ is served
