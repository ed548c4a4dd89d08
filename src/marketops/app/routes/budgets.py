"""Planning pages and API: budgets (filled in by its owner)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
