"""Payelata test helpers (the shared app comes from tests/conftest.py, the receiver from the plugin)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from emulator.app import create_app


def make_app(**options: Any) -> Flask:
    """An app with server-level provider options (`payelata.NAME`)."""
    return create_app(strict=True, seed=1, options={f"payelata.{k}": v for k, v in options.items()})
