"""CLI commands: evaluate."""

from __future__ import annotations

COMMANDS: list = []
