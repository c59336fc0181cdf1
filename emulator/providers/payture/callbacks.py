"""Payture server-to-server notifications (docs/providers/payture.md#notifications), queued through the core dispatcher.

Field names and value formats follow the sample payloads of Necronru's NotificationTest.php (code);
the transport (form-urlencoded POST, no signature) is (inferred) docs/providers/payture.md#notifications, #q6.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from emulator.core.clock import to_datetime
from emulator.core.provider import TenantContext
from emulator.providers.payture.model import Card, Customer, Order, Session

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MOSCOW = timedelta(hours=3)  # (inferred) Payture is a Moscow processor; the samples show local times
DOTNET_EPOCH_TICKS = 621355968000000000  # .NET ticks at 1970-01-01T00:00:00Z
ADD_SUCCESS, ADD_FAIL = "CustomerAddSuccess", "CustomerAddFail"
PAY_SUCCESS, PAY_FAIL = "CustomerPaySuccess", "CustomerPayFail"
REFUND_SUCCESS, REFUND_FAIL = "CustomerRefundSuccess", "CustomerRefundFail"
SEND_CODE = "CustomerSendCode"
# (doc) docs/providers/payture.md#notifications: "By default, the request is sent once"; Payture support can set
# retries, here the callback_retry_delays option.
SENT_ONCE: tuple[float, ...] = ()


def transaction_date(now: float, *, us_style: bool = False) -> str:
    """`26.01.2016 17:08:20` (Add/Pay samples) or `01/26/2016 18:40:25` (the Refund sample)."""
    moment = to_datetime(now) + MOSCOW
    return moment.strftime("%m/%d/%Y %H:%M:%S" if us_style else "%d.%m.%Y %H:%M:%S")


def dotnet_ticks(now: float) -> str:
    """`DateTime=635894248576845703`: 100-ns ticks since 0001-01-01 (the samples' format)."""
    return str(DOTNET_EPOCH_TICKS + round(now * 10_000_000))


def customer_add(
    ctx: TenantContext, customer: Customer | None, session: Session, card: Card | None, err_code: str = ""
) -> None:
    """CustomerAddSuccess / CustomerAddFail after a hosted Add attempt."""
    now = ctx.now
    base: dict[str, Any] = {
        "VWUserLgn": session.login,
        "PhoneNumber": customer.phone if customer else "",
    }
    if card is not None:
        fields = {
            **base,
            "CardNumber": card.card_name,
            "TransactionDate": transaction_date(now),
            "IsAlfa": "False",
            "CardName": card.card_name,
            "CardHolder": card.holder,
            "CardId": card.card_id,
            "SessionId": session.session_id,
            "DateTime": dotnet_ticks(now),
            "Success": "True",
            "Notification": ADD_SUCCESS,
            "MerchantContract": _contract(ctx),
        }
        _send(ctx, ADD_SUCCESS, fields)
    else:
        fields = {
            **base,
            "TransactionDate": transaction_date(now),
            "Success": "False",
            "ErrCode": err_code,
            "Notification": ADD_FAIL,
            "MerchantContract": _contract(ctx),
        }
        _send(ctx, ADD_FAIL, fields)


def customer_add_merchant(
    ctx: TenantContext, customer: Customer | None, login: str, card: Card | None, err_code: str = ""
) -> None:
    """CustomerAddSuccess / CustomerAddFail after a merchant-side Add (no session: no SessionId field)."""
    now = ctx.now
    fields: dict[str, Any] = {"VWUserLgn": login, "PhoneNumber": customer.phone if customer else ""}
    if card is not None:
        fields |= {
            "CardNumber": card.card_name,
            "TransactionDate": transaction_date(now),
            "CardName": card.card_name,
            "CardHolder": card.holder,
            "CardId": card.card_id,
            "DateTime": dotnet_ticks(now),
            "Success": "True",
            "Notification": ADD_SUCCESS,
            "MerchantContract": _contract(ctx),
        }
        _send(ctx, ADD_SUCCESS, fields)
        return
    fields |= {"TransactionDate": transaction_date(now), "Success": "False", "ErrCode": err_code}
    fields |= {"Notification": ADD_FAIL, "MerchantContract": _contract(ctx)}
    _send(ctx, ADD_FAIL, fields)


def customer_send_code(ctx: TenantContext, customer: Customer, card: Card, order_id: str, code: str) -> None:
    """(code: Necronru CustomerSendCode) the confirmation code SendCode asked for; (inferred) its fields."""
    fields = {
        "Notification": SEND_CODE,
        "VWUserLgn": customer.login,
        "PhoneNumber": customer.phone,
        "CardId": card.card_id,
        "CardName": card.card_name,
        "OrderId": order_id,
        "ConfirmCode": code,
        "TransactionDate": transaction_date(ctx.now),
        "MerchantContract": _contract(ctx),
    }
    _send(ctx, SEND_CODE, fields)


def customer_pay(ctx: TenantContext, order: Order, *, card_name: str = "", ip: str = "", err_code: str = "") -> None:
    """CustomerPaySuccess / CustomerPayFail after a payment (saved card, FreePay or the Pay page)."""
    now = ctx.now
    event = PAY_FAIL if err_code else PAY_SUCCESS
    fields: dict[str, Any] = {
        "Notification": event,
        "VWUserLgn": order.login,
        "CardId": order.card_id,
        "OrderId": order.order_id,
        "Amount": str(order.amount),
        "ConfirmCode": "",
        "ExternalMerchantOrderId": order.order_id,
        "IP": ip,
        "Is3DS": "True" if order.three_ds_key else "False",
        "IsAFAuthorize": "False",
        "IsSecureCodeByPhone": "False",
        "TransactionDate": transaction_date(now),
        "SessionId": order.session_id,
        "CardNumber": card_name,
        "DateTime": dotnet_ticks(now),
    }
    if err_code:
        fields["Success"], fields["ErrCode"] = "False", err_code
    _send(ctx, event, fields)


def customer_refund(ctx: TenantContext, order: Order) -> None:
    """CustomerRefundSuccess with the remaining amount (the sample's US-style date)."""
    fields = {
        "OrderId": order.order_id,
        "NewAmount": str(order.current_amount),
        "TransactionDate": transaction_date(ctx.now, us_style=True),
        "Success": "True",
        "Notification": REFUND_SUCCESS,
    }
    _send(ctx, REFUND_SUCCESS, fields)


def _contract(ctx: TenantContext) -> str:
    return str(ctx.tenant.get("merchant_contract") or ctx.tenant.id) if ctx.tenant else ""


def _send(ctx: TenantContext, event: str, fields: dict[str, Any]) -> None:
    url = ctx.callback_url(setting="notification_url")  # the option, else the tenant's field
    if not url:
        return  # notifications are a merchant setting; without a URL Payture sends none
    ctx.send_callback(
        url=url,
        body=urlencode(fields).encode("utf-8"),
        headers={"Content-Type": FORM_CONTENT_TYPE},
        event=event,
        retry_delays=SENT_ONCE,
    )
