"""The docs pages — Swagger UI at ``/<service>/docs``, GraphiQL at ``/graphql`` and
``/<service>/graphql`` — with their scripts and styles served by the service itself under
``assets/``, so they work on an intranet without internet access.

The assets are npm releases pinned by :mod:`shared.docs_assets.vendor` with their licences;
``manifest.json`` records each release's tarball integrity and each file's SRI hash (a test checks
the shipped files against it, and the GraphiQL page repeats the hashes for the browser to check).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

HERE = Path(__file__).parent
STATIC = HERE / "static"  # only this folder is served
ASSETS_PATH = "/assets"
GRAPHIQL_TEMPLATE = (HERE / "graphiql.html").read_text()


@dataclass(frozen=True)
class Release:
    """A pinned npm release: where its files are under ``static/`` and their SRI hashes."""

    version: str
    directory: str
    files: dict[str, str]


RELEASES = {
    name: Release(entry["version"], entry["directory"], entry["files"])
    for name, entry in json.loads((HERE / "manifest.json").read_text()).items()
}


def asset_url(request: Request, package: str, name: str) -> str:
    """Where ``name`` of the pinned npm ``package`` is served for the app ``request`` reached."""
    root = request.scope.get("root_path", "").rstrip("/")
    return f"{root}{ASSETS_PATH}/{RELEASES[package].directory}/{name}"


def _script(request: Request, package: str, name: str) -> str:
    return f'<script src="{asset_url(request, package, name)}" integrity="{RELEASES[package].files[name]}"></script>'


def _style(request: Request, package: str, name: str) -> str:
    return f'<link rel="stylesheet" href="{asset_url(request, package, name)}" integrity="{RELEASES[package].files[name]}">'


def mount_assets(app: FastAPI) -> None:
    """Serve the pinned assets under ``assets/`` of ``app``."""
    app.mount(ASSETS_PATH, StaticFiles(directory=STATIC), name="assets")


def install_swagger_ui(app: FastAPI, path: str = "/docs") -> None:
    """Swagger UI at ``path`` of ``app`` (created with ``docs_url=None``), on the local assets."""

    @app.get(path, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} — REST",
            swagger_js_url=asset_url(request, "swagger-ui-dist", "swagger-ui-bundle.js"),
            swagger_css_url=asset_url(request, "swagger-ui-dist", "swagger-ui.css"),
            swagger_favicon_url=asset_url(request, "swagger-ui-dist", "favicon-32x32.png"),
        )

    mount_assets(app)


def graphiql_page(request: Request, title: str = "cchc GraphQL") -> HTMLResponse:
    """GraphiQL on the local assets, querying the URL it was served from."""
    head = "\n".join(
        (
            _style(request, "graphiql", "graphiql.min.css"),
            _script(request, "react", "react.production.min.js"),
            _script(request, "react-dom", "react-dom.production.min.js"),
            _script(request, "graphiql", "graphiql.min.js"),
        )
    )
    return HTMLResponse(GRAPHIQL_TEMPLATE.replace("{{ title }}", escape(title)).replace("{{ assets }}", head))
