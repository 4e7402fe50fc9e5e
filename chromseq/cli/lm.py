"""CLI commands: lm."""

from __future__ import annotations

COMMANDS: list = []
