"""CLI commands: baseline."""

from __future__ import annotations

COMMANDS: list = []
