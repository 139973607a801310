"""REST routes of the dossiers service (mounted at ``/dossiers``)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["dossiers"])
