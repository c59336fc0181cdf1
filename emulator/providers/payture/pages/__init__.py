"""The Payture-hosted card pages (docs/providers/payture.md#add-page, #pay): form, emulated 3-DS, result, error.

Rendered from `hosted.html` beside this file, through the app's Jinja environment. Field names are the
C# SDK's `Card` names (`CardNumber`, `EMonth`, `EYear`, `CardHolder`, `SecureCode`), as
docs/providers/payture.md#add-page suggests.
"""

from __future__ import annotations

from typing import Any

from emulator.core.codecs import is_web_url
from emulator.core.errors import Reply
from emulator.core.pages import HTML_CONTENT_TYPE, render_page
from emulator.providers.payture.model import TEST_CARDS

__all__ = ["HTML_CONTENT_TYPE", "acs_page", "error_page", "form_page", "result_page", "term_page"]

# (inferred) short explanations shown to a person on the error page.
ERROR_MESSAGES = {
    "ORDER_NOT_FOUND": "This payment session does not exist.",
    "ORDER_TIME_OUT": "This payment session has expired.",
    "OPERATION_NOT_ALLOWED": "This payment session has already been completed.",
    "LIMIT_EXCHAUST": "No attempts left for this payment session.",
    "WRONG_PARAMS": "The request is missing a required parameter.",
}


def _page(status: int = 200, **context: Any) -> Reply:
    context.setdefault("redirect_url", None)
    context.setdefault("redirect_delay", None)
    context.setdefault("delay_flag", None)
    return render_page("payture/hosted.html", status, test_cards=TEST_CARDS, **context)


def form_page(
    *,
    session_id: str,
    add: bool,
    terminal: str,
    amount: int,
    attempts_left: int,
    action: str,
    delay_flag: str | None,
    message: str = "",
) -> Reply:
    return _page(
        view="form",
        title="Add a card" if add else "Pay by card",
        button="Add card" if add else "Pay",
        session_id=session_id,
        terminal=terminal,
        amount=f"{amount / 100:.2f}" if amount else "",
        attempts_left=attempts_left,
        action=action,
        delay_flag=delay_flag,
        message=message,
    )


def acs_page(*, session_id: str, three_ds_key: str, card_name: str, action: str, delay_flag: str | None) -> Reply:
    return _page(
        view="acs",
        title="3-D Secure",
        session_id=session_id,
        three_ds_key=three_ds_key,
        card_name=card_name,
        action=action,
        delay_flag=delay_flag,
    )


def term_page(*, md: str, pa_req: str, term_url: str) -> Reply:
    """(inferred) The ACS a `Success="3DS"` reply points at: answers `PaRes` = pass | fail to TermUrl."""
    if not term_url:
        return error_page("WRONG_PARAMS")
    return _page(view="term", title="3-D Secure", md=md, pa_req=pa_req, term_url=term_url)


def result_page(
    *, success: bool, add: bool, card_name: str, err_code: str, redirect_url: str, redirect_delay: int
) -> Reply:
    return _page(
        view="result",
        title="Result",
        success=success,
        add=add,
        card_name=card_name,
        err_code=err_code,
        redirect_url=redirect_url if is_web_url(redirect_url) else None,  # never a javascript: link
        redirect_delay=redirect_delay if is_web_url(redirect_url) else None,
    )


def error_page(err_code: str) -> Reply:
    """(inferred) docs/providers/payture.md#add-page: unknown, used or expired sessions get an error page, not XML."""
    return _page(
        view="error", title="Error", err_code=err_code, message=ERROR_MESSAGES.get(err_code, "The operation failed.")
    )
