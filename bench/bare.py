"""The yardstick of ``bench.reads``: a bare FastAPI endpoint answering a small JSON.

``uvicorn bench.bare:app --loop uvloop --http httptools``, one process: what one Python process
serving FastAPI can answer at best on this machine, without a database, middleware or dependencies.
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/item/{key}")
async def item(key: str) -> dict[str, object]:
    return {"key": key, "status": 4, "label": "Đang xử lý", "on_time": True}
