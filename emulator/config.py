"""Configuration: defaults, overridden by PAYEMU_* environment variables, then by explicit arguments."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from emulator.core.options import as_bool

PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Find `contracts/` or `scenarios/`: inside the installed package, else at the repository root."""
    packaged = PACKAGE_DIR / name
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / name


@dataclass
class Config:
    """How one emulator app behaves; `PAYEMU_<FIELD>` sets any field from the environment."""

    host: str = "127.0.0.1"
    port: int = 8080
    scenario: str | None = None  # server-wide active scenario, "<provider>/<stem>"
    seed: int | None = None
    strict: bool = False  # validate every response against its contract
    tenants_file: Path | None = None
    open_tenants: bool = False
    journal_size: int = 1000
    external_url: str | None = None  # base URL for hosted pages and redirects, when behind a proxy
    callback_timeout: float = 5.0  # seconds one delivery attempt may take
    callbacks: bool = True  # deliver callbacks (off: queue them in the outbox only)
    max_body_bytes: int = 1024 * 1024
    store: str = "memory"  # memory | sqlite:///<path> | redis://<host>:<port>/<db> (core/store.py)
    admin_token: str | None = None  # when set, every /__admin call needs `Authorization: Bearer <token>`
    insecure_admin: bool = False  # allow an unauthenticated admin API on a non-loopback address
    contracts_dir: Path = field(default_factory=lambda: data_dir("contracts"))
    scenarios_dir: Path = field(default_factory=lambda: data_dir("scenarios"))
    options: dict[str, Any] = field(default_factory=dict)  # "provider.option" -> value

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Config:
        """Build a config from PAYEMU_* variables, then explicit (non-None) overrides."""
        environ = dict(os.environ if environ is None else environ)
        config = cls()
        for item in fields(cls):
            raw = environ.get(f"PAYEMU_{item.name.upper()}")
            if raw is not None and item.name != "options":
                setattr(config, item.name, _coerce(item.name, getattr(config, item.name), raw))
        for key, value in overrides.items():
            if value is not None:
                setattr(config, key, value)
        config.admin_token = config.admin_token or None  # an empty PAYEMU_ADMIN_TOKEN means none
        return config


def _coerce(name: str, current: Any, raw: str) -> Any:
    if isinstance(current, bool) or name in ("strict", "open_tenants", "callbacks", "insecure_admin"):
        return as_bool(raw)
    if isinstance(current, float) and not isinstance(current, bool):
        return float(raw)
    if isinstance(current, int) or name in ("seed", "port", "journal_size", "max_body_bytes"):
        return int(raw)
    if name.endswith("_file") or name.endswith("_dir"):
        return Path(raw)
    return raw
