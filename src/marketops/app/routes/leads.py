"""Leads with their score and its explanation (filled in by its owner)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
