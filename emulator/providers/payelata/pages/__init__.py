"""Payelata's hosted pages (docs/providers/payelata.md): the card form behind `flow_data.action` (with the test
cards in test mode and the payment error after a declined attempt, for the payer to retry), the auto-posting
3-DS redirect, the emulated ACS challenge and the status page that sends the payer back to the shop. Templates
beside this file."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from emulator.core.codecs import is_web_url
from emulator.core.errors import Reply
from emulator.core.pages import render_page
from emulator.providers.payelata import model

HTML_CONTENT_TYPE = "text/html; charset=utf-8"
# (doc) docs/providers/payelata.md#retries: the page shows the error with "Try the following" hints (the
# connector docs' screenshot for invalid_cvv); the other wordings are (inferred).
HINTS = {
    "invalid_cvv": ("Invalid CVV code", "Please double check the CVV code, it can be found on the back of your card."),
    "insufficient_funds": ("Insufficient funds", "Check the balance of your card or use another card."),
    "card_expired": ("The card has expired", "Check the expiry date or use another card."),
    "invalid_3ds_code": ("3-D Secure verification failed", "Try again and confirm the payment with your bank."),
    "issuer_decline": ("Declined by the issuing bank", "Contact your bank or use another card."),
    "lost_or_stolen_card": ("The card can not be used", "Use another card."),
}
DEFAULT_HINT = ("Payment declined", "Check the card details, use another card, or contact your bank.")


def card_form(invoice: model.Invoice, *, action: str, error: str | None = None, status: int | None = None) -> Reply:
    """The card form; with `error` shown again after a refused attempt (422 for bad input, 200 for a decline)."""
    code = status if status is not None else (422 if error else 200)
    hint = None
    if error is None and invoice.status == model.PROCESS_ERROR:
        error, hint = HINTS.get(invoice.resolution, DEFAULT_HINT)
        code = 200
    cards = model.TEST_CARDS.cards if invoice.test_mode else []
    return render_page(
        "payelata/hpp.html", code, invoice=invoice, action=action, error=error, hint=hint, test_cards=cards
    )


def auto_post(action: str, params: dict[str, Any]) -> Reply:
    """A page that posts `params` to the 3-DS `action` as soon as it loads."""
    return render_page("payelata/redirect.html", action=action, params=params)


def acs_challenge(invoice: model.Invoice, *, term_url: str, md: str) -> Reply:
    """The emulator's stand-in for the issuer's 3-DS challenge page."""
    return render_page("payelata/acs.html", invoice=invoice, term_url=term_url, md=md)


def return_url(invoice: model.Invoice, *, with_context: bool) -> str | None:
    """Where the payer goes back to: `return_urls.success|pending|fail` before `return_url` (doc, release notes
    v1.6.12), with the operation's context in the query unless the account turned it off (doc: "Send Operation
    Context Return URL"; `?id=cpi_…&serial_number=…&amount=111.00…`, the rest of the list inferred)."""
    urls = invoice.return_urls or {}
    if invoice.status in (model.PROCESSED, model.REFUNDED, model.PARTIALLY_REFUNDED):
        url = urls.get("success") or invoice.return_url
    elif invoice.status in (model.PROCESS_FAILED, model.EXPIRED):
        url = urls.get("fail") or invoice.return_url
    else:
        url = urls.get("pending") or invoice.return_url
    if not is_web_url(url):
        return None
    if not with_context:
        return url
    parts = urlsplit(url)
    context = {
        "id": invoice.id,
        "serial_number": invoice.serial_number,
        "amount": f"{float(invoice.amount):.2f}",
        "currency": invoice.currency,
        "reference_id": invoice.reference_id,
        "status": invoice.status,
        "resolution": invoice.resolution,
    }
    query = [*parse_qsl(parts.query, keep_blank_values=True), *context.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def result_page(invoice: model.Invoice, *, with_context: bool, redirect_delay: int, bypass: bool) -> Reply:
    """The status page: the outcome, then back to the shop after `redirect_delay` seconds; with the account's
    "Bypass status page" (doc) straight back (303)."""
    back = return_url(invoice, with_context=with_context)
    if bypass and back:
        return Reply(303, headers={"Location": back}, raw=b"", content_type=HTML_CONTENT_TYPE)
    return render_page("payelata/result.html", invoice=invoice, return_url=back, redirect_delay=redirect_delay)
