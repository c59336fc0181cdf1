"""Payelata's hosted pages (docs/providers/payelata.md): the card form behind `flow_data.action`, the
auto-posting 3-DS redirect, the emulated ACS challenge and the result page. Templates beside this file."""

from __future__ import annotations

from typing import Any

from emulator.core.errors import Reply
from emulator.core.pages import render_page
from emulator.providers.payelata import model


def card_form(invoice: model.Invoice, *, action: str, error: str | None = None) -> Reply:
    """The card form; with `error`, shown again (422) after a refused attempt."""
    return render_page("payelata/hpp.html", 422 if error else 200, invoice=invoice, action=action, error=error)


def auto_post(action: str, params: dict[str, Any]) -> Reply:
    """A page that posts `params` to the 3-DS `action` as soon as it loads."""
    return render_page("payelata/redirect.html", action=action, params=params)


def acs_challenge(invoice: model.Invoice, *, term_url: str, md: str) -> Reply:
    """The emulator's stand-in for the issuer's 3-DS challenge page."""
    return render_page("payelata/acs.html", invoice=invoice, term_url=term_url, md=md)


def result_page(invoice: model.Invoice) -> Reply:
    """The outcome, linking back to the return URL for the invoice's status."""
    urls = invoice.return_urls or {}
    if invoice.status == model.PROCESSED:
        back = urls.get("success") or invoice.return_url
    elif invoice.status == model.PROCESS_FAILED:
        back = urls.get("fail") or invoice.return_url
    else:
        back = urls.get("pending") or invoice.return_url
    return render_page("payelata/result.html", invoice=invoice, return_url=back)
