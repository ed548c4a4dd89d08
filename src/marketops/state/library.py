"""Playbooks, templates and the register of digital assets."""

from __future__ import annotations
