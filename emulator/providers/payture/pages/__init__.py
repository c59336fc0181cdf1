"""The Payture-hosted card pages (docs/providers/payture.md#add-page, #pay, #hosted-pages): form, emulated 3-DS,
result, error.

Rendered from `hosted.html` beside this file, through the app's Jinja environment. Field names are the
C# SDK's `Card` names (`CardNumber`, `EMonth`, `EYear`, `CardHolder`, `SecureCode`), as
docs/providers/payture.md#add-page suggests. Init's `Language` (RU, EN) picks the texts, `TemplateTag` the
template (shown as the page's `data-template`; payemu has one layout).
"""

from __future__ import annotations

from typing import Any

from emulator.core.codecs import is_web_url
from emulator.core.errors import Reply
from emulator.core.pages import HTML_CONTENT_TYPE, render_page
from emulator.providers.payture.model import TEST_CARDS, Card

__all__ = ["HTML_CONTENT_TYPE", "LANGUAGES", "acs_page", "error_page", "form_page", "result_page", "term_page"]

# (doc) docs/providers/payture.md#hosted-pages: Init `Language` takes RU or EN. The wording is payemu's own.
TEXTS: dict[str, dict[str, str]] = {
    "EN": {
        "add_title": "Add a card",
        "pay_title": "Pay by card",
        "add_button": "Add card",
        "pay_button": "Pay",
        "terminal": "Merchant terminal",
        "amount": "amount",
        "attempts": "attempts left",
        "card_number": "Card number",
        "month": "Month",
        "year": "Year",
        "cvv": "CVV",
        "holder": "Card holder",
        "save_card": "Save this card for later payments",
        "saved_cards": "Your saved cards",
        "pay_saved": "Pay with this card",
        "new_card": "Or pay with another card",
        "test_card": "Test card",
        "outcome": "Outcome",
        "test_rules": "Any future expiry date, CVV 123, a holder name of 3+ Latin letters. "
        "Any other Luhn-valid number succeeds (CVV required).",
        "acs_intro": "Emulated issuer (ACS) page for card",
        "term_intro": "Emulated issuer (ACS) page. The answer is posted to the merchant's TermUrl.",
        "confirm": "Confirm",
        "fail": "Fail authentication",
        "registered": "Card registered",
        "paid": "Payment successful",
        "declined": "Operation declined",
        "card": "Card",
        "error_code": "Error code",
        "hold": "A verification amount is held on the card",
        "returning": "Returning to the shop in",
        "continue": "continue",
        "unavailable": "Session unavailable",
        "ORDER_NOT_FOUND": "This payment session does not exist.",
        "ORDER_TIME_OUT": "This payment session has expired.",
        "OPERATION_NOT_ALLOWED": "This payment session has already been completed.",
        "LIMIT_EXCHAUST": "No attempts left for this payment session.",
        "WRONG_PARAMS": "The request is missing a required parameter.",
        "failed": "The operation failed.",
    },
    "RU": {
        "add_title": "Привязка карты",
        "pay_title": "Оплата картой",
        "add_button": "Привязать карту",
        "pay_button": "Оплатить",
        "terminal": "Терминал продавца",
        "amount": "сумма",
        "attempts": "осталось попыток",
        "card_number": "Номер карты",
        "month": "Месяц",
        "year": "Год",
        "cvv": "CVV",
        "holder": "Держатель карты",
        "save_card": "Сохранить карту для следующих платежей",
        "saved_cards": "Ваши сохранённые карты",
        "pay_saved": "Оплатить этой картой",
        "new_card": "Или оплатите другой картой",
        "test_card": "Тестовая карта",
        "outcome": "Результат",
        "test_rules": "Любой срок действия в будущем, CVV 123, имя держателя латиницей, не менее 3 символов. "
        "Любой другой номер с верной контрольной суммой проходит (CVV обязателен).",
        "acs_intro": "Эмулированная страница банка-эмитента (ACS) для карты",
        "term_intro": "Эмулированная страница банка-эмитента (ACS). Ответ отправляется на TermUrl продавца.",
        "confirm": "Подтвердить",
        "fail": "Отказать в аутентификации",
        "registered": "Карта привязана",
        "paid": "Оплата прошла успешно",
        "declined": "Операция отклонена",
        "card": "Карта",
        "error_code": "Код ошибки",
        "hold": "На карте заблокирована проверочная сумма",
        "returning": "Возврат в магазин через",
        "continue": "продолжить",
        "unavailable": "Сессия недоступна",
        "ORDER_NOT_FOUND": "Такой платежной сессии нет.",
        "ORDER_TIME_OUT": "Время платежной сессии истекло.",
        "OPERATION_NOT_ALLOWED": "Платежная сессия уже завершена.",
        "LIMIT_EXCHAUST": "Попытки ввода исчерпаны.",
        "WRONG_PARAMS": "В запросе не хватает обязательного параметра.",
        "failed": "Операция не выполнена.",
    },
}
LANGUAGES = frozenset(TEXTS)
DEFAULT_LANGUAGE = "RU"  # (inferred) a Russian gateway's page; option default_language in the views


def _page(status: int = 200, *, language: str, template_tag: str = "", **context: Any) -> Reply:
    context.setdefault("redirect_url", None)
    context.setdefault("redirect_delay", None)
    context.setdefault("delay_flag", None)
    texts = TEXTS.get(language, TEXTS["EN"])
    return render_page(
        "payture/hosted.html",
        status,
        test_cards=TEST_CARDS,
        t=texts,
        lang=language.lower(),
        template_tag=template_tag,
        **context,
    )


def form_page(
    *,
    session_id: str,
    add: bool,
    terminal: str,
    amount: int,
    attempts_left: int,
    action: str,
    delay_flag: str | None,
    language: str = DEFAULT_LANGUAGE,
    template_tag: str = "",
    saved_cards: list[Card] | None = None,
    message: str = "",
) -> Reply:
    texts = TEXTS.get(language, TEXTS["EN"])
    return _page(
        view="form",
        language=language,
        template_tag=template_tag,
        title=texts["add_title"] if add else texts["pay_title"],
        button=texts["add_button"] if add else texts["pay_button"],
        add=add,
        session_id=session_id,
        terminal=terminal,
        amount=f"{amount / 100:.2f}" if amount else "",
        attempts_left=attempts_left,
        action=action,
        delay_flag=delay_flag,
        message=message,
        saved_cards=saved_cards or [],
    )


def acs_page(
    *,
    session_id: str,
    three_ds_key: str,
    card_name: str,
    action: str,
    delay_flag: str | None,
    language: str = DEFAULT_LANGUAGE,
) -> Reply:
    return _page(
        view="acs",
        language=language,
        title="3-D Secure",
        session_id=session_id,
        three_ds_key=three_ds_key,
        card_name=card_name,
        action=action,
        delay_flag=delay_flag,
    )


def term_page(*, md: str, pa_req: str, term_url: str, language: str = DEFAULT_LANGUAGE) -> Reply:
    """(inferred) The ACS a `Success="3DS"` reply points at: answers `PaRes` = pass | fail to TermUrl."""
    if not term_url:
        return error_page("WRONG_PARAMS", language)
    return _page(view="term", language=language, title="3-D Secure", md=md, pa_req=pa_req, term_url=term_url)


def result_page(
    *,
    success: bool,
    add: bool,
    card_name: str,
    err_code: str,
    redirect_url: str,
    redirect_delay: int,
    language: str = DEFAULT_LANGUAGE,
    activation_amount: int = 0,
) -> Reply:
    texts = TEXTS.get(language, TEXTS["EN"])
    return _page(
        view="result",
        language=language,
        title=texts["registered"] if success and add else (texts["paid"] if success else texts["declined"]),
        success=success,
        add=add,
        card_name=card_name,
        err_code=err_code,
        hold=f"{activation_amount / 100:.2f}" if activation_amount else "",
        redirect_url=redirect_url if is_web_url(redirect_url) else None,  # never a javascript: link
        redirect_delay=redirect_delay if is_web_url(redirect_url) else None,
    )


def error_page(err_code: str, language: str = DEFAULT_LANGUAGE) -> Reply:
    """(inferred) docs/providers/payture.md#add-page: unknown, used or expired sessions get an error page, not XML."""
    texts = TEXTS.get(language, TEXTS["EN"])
    return _page(
        view="error",
        language=language,
        title=texts["unavailable"],
        err_code=err_code,
        message=texts.get(err_code, texts["failed"]),
    )
