"""Ecommpay's hosted page (docs/providers/ecommpay.md#3-d-secure): payemu's emulated ACS behind `acs.acs_url`.
Templates beside this file."""

from __future__ import annotations

from emulator.core.errors import Reply
from emulator.core.pages import render_page
from emulator.providers.ecommpay import model


def acs_challenge(payment: model.Payment, *, term_url: str | None, md: str, pares_ok: str, pares_fail: str) -> Reply:
    """The issuer's challenge: authenticate or fail; each posts `PaRes` and `MD` to the merchant's TermUrl
    (without one, the page shows the PaRes to pass to `/v2/payment/card/3ds_result`)."""
    return render_page(
        "ecommpay/acs.html",
        payment=payment,
        term_url=term_url,
        md=md,
        pares_ok=pares_ok,
        pares_fail=pares_fail,
    )
