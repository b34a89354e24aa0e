"""``GET /health``: liveness, no authentication."""
from __future__ import annotations

from fastapi import APIRouter

from lapi.web import JSONBody

router = APIRouter()


@router.get("/health")
def health() -> JSONBody:
    return JSONBody({"status": "ok"})
