"""Fixtures for the Ecommpay tests: the shared app with every sample project calling back to the plugin's receiver."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.testing import CallbackReceiver

from .support import route_callbacks


@pytest.fixture
def receiver(app: Any, payemu_receiver: CallbackReceiver) -> CallbackReceiver:
    """The plugin's receiver, the callback URL of every sample project of the shared app."""
    route_callbacks(app.extensions["payemu"], payemu_receiver)
    return payemu_receiver
