"""CLI commands: apps."""

from __future__ import annotations

COMMANDS: list = []
