"""Option reading shared by every provider: booleans as text, callback URLs, retry schedules."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Blueprint

from emulator.core.options import as_bool, as_delays
from emulator.core.provider import Provider, TenantContext
from emulator.core.tenants import Tenant


def _context(options: dict[str, Any], tenant_data: dict[str, Any], server: dict[str, Any] | None = None) -> Any:
    provider = Provider(
        name="toy",
        blueprint=Blueprint("toy_options", __name__),
        state_class=dict,
        authenticate=lambda call: None,
        errors={},
        contract_error=lambda call, violations: None,  # type: ignore[arg-type,return-value]
        not_found=lambda path: None,  # type: ignore[arg-type,return-value]
        method_not_allowed=lambda method: None,  # type: ignore[arg-type,return-value]
        paths=("/toy",),
        folder=Path("."),
        options=options,
    )
    runtime = SimpleNamespace(config=SimpleNamespace(options=server or {}))
    tenant = Tenant("toy", "t1", tenant_data, dict(tenant_data.get("options") or {}), None)
    return TenantContext(runtime, provider, tenant, 0.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("ON", True), ("1", True), ("false", False), ("no", False), ("", False), (True, True), (0, False)],
)
def test_as_bool_reads_text_as_written(raw: Any, expected: bool) -> None:
    assert as_bool(raw) is expected


def test_as_delays_from_text_or_list() -> None:
    assert as_delays("0.1, 0.2,") == (0.1, 0.2)
    assert as_delays([1, 5]) == (1.0, 5.0)


def test_flag_reads_a_text_option_from_the_command_line() -> None:
    context = _context({"strict": True}, {}, server={"toy.strict": "false"})
    assert context.flag("strict") is False


def test_callback_url_prefers_override_then_option_then_tenant_field() -> None:
    context = _context({"callback_url": None}, {"callback_url": "http://tenant/cb"})
    assert context.callback_url() == "http://tenant/cb"
    assert context.callback_url(None, "http://message/cb") == "http://message/cb"
    context = _context(
        {"callback_url": None}, {"callback_url": "http://tenant/cb", "options": {"callback_url": "http://opt"}}
    )
    assert context.callback_url() == "http://opt"
    assert _context({}, {}).callback_url() is None
    assert _context({}, {"notify": "http://n"}).callback_url(setting="notify") == "http://n"


def test_callback_retry_delays_option_and_scale() -> None:
    assert _context({}, {}).callback_retry_delays((1.0, 2.0)) == (1.0, 2.0)  # no retry options: the schedule
    context = _context({"callback_retry_delays": None}, {"options": {"callback_retry_delays": "0.5,0.5"}})
    assert context.callback_retry_delays((1.0, 2.0)) == (0.5, 0.5)
    scaled = _context({"callback_retry_scale": 1.0}, {"options": {"callback_retry_scale": 0.01}})
    assert scaled.callback_retry_delays((60.0, 120.0)) == pytest.approx((0.6, 1.2))
