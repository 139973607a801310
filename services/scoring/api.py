"""REST routes of the scoring service (mounted at ``/scoring``)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["scoring"])
