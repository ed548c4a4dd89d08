"""Planning pages and API: slas (filled in by its owner)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
