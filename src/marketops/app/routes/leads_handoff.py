"""Lifecycle, the MQL/SQL definitions and the quality of the handoff (filled in by its owner)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
