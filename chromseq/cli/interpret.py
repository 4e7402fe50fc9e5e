"""CLI commands: interpret."""

from __future__ import annotations

COMMANDS: list = []
