"""payemu: a contract-testing sandbox emulator of payment-provider APIs."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "create_app"]


def __getattr__(name: str) -> Any:
    """`emulator.create_app`, imported on first use: importing a submodule (the pytest plugin, the
    serving adapter) does not load Flask and every provider."""
    if name == "create_app":
        from emulator.app import create_app

        return create_app
    raise AttributeError(f"module 'emulator' has no attribute {name!r}")
