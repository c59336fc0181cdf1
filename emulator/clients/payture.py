"""Clients for Payture EWallet (`/vwapi/*`) and the behind-API V21 `payments.payture` wrapper.

Written from the wire description (docs/providers/payture.md), independent of the emulator's own code: its
own `DATA` encoder (the three encodings seen in the wild) and its own XML parser.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

import requests

ENCODINGS = ("plain", "per_value", "double")
TRANSPORTS = ("post_form", "get_query", "post_query")


def encode_data(data: dict[str, Any], encoding: str = "plain") -> str:
    """`Key=Value;Key=Value;` in one of the encodings of docs/providers/payture.md#transport (None values are left out).

    plain: as the C# SDK (the HTTP layer encodes it once); per_value: each value URL-encoded and
    joined with `;` (PHP `http_build_query($d, null, ';')`); double: the whole plain string
    URL-encoded, then encoded again by the HTTP layer (recorded from droff/payture-ewallet).
    """
    items = [(str(k), str(v)) for k, v in data.items() if v is not None]
    if encoding == "per_value":
        return ";".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in items)
    plain = "".join(f"{k}={v};" for k, v in items)
    if encoding == "double":
        return quote(plain, safe="")
    if encoding != "plain":
        raise ValueError(f"unknown DATA encoding {encoding!r} (known: {ENCODINGS})")
    return plain


@dataclass
class PaytureResponse:
    """A parsed reply: the root element's name and attributes, and its `<Item/>` children."""

    command: str
    attrs: dict[str, str]
    items: list[dict[str, str]] = field(default_factory=list)
    status_code: int = 200
    text: str = ""

    @property
    def success(self) -> bool:
        return self.attrs.get("Success", "").lower() == "true"

    @property
    def needs_3ds(self) -> bool:
        return self.attrs.get("Success", "").upper() == "3DS"

    @property
    def err_code(self) -> str | None:
        return self.attrs.get("ErrCode")

    def __getitem__(self, name: str) -> str:
        return self.attrs[name]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)


def parse_xml(text: str, status_code: int = 200) -> PaytureResponse:
    """Parse Payture's attribute-only XML."""
    root = ET.fromstring(text)
    items = [dict(child.attrib) for child in root if child.tag == "Item"]
    return PaytureResponse(root.tag, dict(root.attrib), items, status_code, text)


class PaytureClient:
    """EWallet commands against `base_url` (e.g. https://sandbox3.payture.com or the emulator)."""

    def __init__(
        self,
        base_url: str,
        vwid: str,
        merchant_password: str,
        *,
        encoding: str = "plain",
        transport: str = "post_form",
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ) -> None:
        if transport not in TRANSPORTS:
            raise ValueError(f"unknown transport {transport!r} (known: {TRANSPORTS})")
        self.base_url = base_url.rstrip("/")
        self.vwid = vwid
        self.merchant_password = merchant_password
        self.encoding = encoding
        self.transport = transport
        self.http = session or requests.Session()
        self.timeout = timeout

    # -- transport -------------------------------------------------------------------------------

    def command(self, name: str, data: dict[str, Any] | None = None, **top: Any) -> PaytureResponse:
        """Send `/vwapi/{name}` with `VWID`, an encoded `DATA` and any top-level parameters."""
        params: dict[str, str] = {"VWID": self.vwid}
        if data is not None:
            params["DATA"] = encode_data(data, self.encoding)
        params.update({k: str(v) for k, v in top.items() if v is not None})
        url = f"{self.base_url}/vwapi/{name}"
        if self.transport == "get_query":
            response = self.http.get(url, params=params, timeout=self.timeout)
        elif self.transport == "post_query":
            response = self.http.post(url, params=params, timeout=self.timeout)
        else:
            response = self.http.post(url, data=params, timeout=self.timeout)
        return parse_xml(response.text, response.status_code)

    def page_url(self, session_id: str, session_type: str = "Add") -> str:
        """The hosted page a customer is sent to (C# `FormRedirectURL`)."""
        page = "Add" if session_type == "Add" else "Pay"
        return f"{self.base_url}/vwapi/{page}?SessionId={quote(session_id, safe='')}"

    # -- customers -------------------------------------------------------------------------------

    def register(
        self, login: str, password: str, phone: str | None = None, email: str | None = None
    ) -> PaytureResponse:
        return self.command(
            "Register", {"VWUserLgn": login, "VWUserPsw": password, "PhoneNumber": phone, "Email": email}
        )

    def check(self, login: str, password: str) -> PaytureResponse:
        return self.command("Check", {"VWUserLgn": login, "VWUserPsw": password})

    def update(self, login: str, password: str, phone: str | None = None, email: str | None = None) -> PaytureResponse:
        return self.command("Update", {"VWUserLgn": login, "VWUserPsw": password, "PhoneNumber": phone, "Email": email})

    def delete(self, login: str) -> PaytureResponse:
        """Delete takes the merchant password, not the customer's."""
        return self.command("Delete", {"VWUserLgn": login, "Password": self.merchant_password})

    # -- sessions and cards ----------------------------------------------------------------------

    def init(
        self,
        session_type: str,
        login: str,
        password: str,
        *,
        order_id: str | None = None,
        amount: int | None = None,
        url: str | None = None,
        ip: str | None = "127.0.0.1",
        language: str | None = None,
        template_tag: str | None = None,
        card_id: str | None = None,
        **extra: Any,
    ) -> PaytureResponse:
        """Open a hosted-page session; `language` RU | EN and `template_tag` pick the page, `card_id` the saved
        card the Pay page offers first."""
        data = {
            "SessionType": session_type,
            "VWUserLgn": login,
            "VWUserPsw": password,
            "OrderId": order_id,
            "Amount": amount,
            "Url": url,
            "IP": ip,
            "Language": language,
            "TemplateTag": template_tag,
            "CardId": card_id,
            **extra,
        }
        return self.command("Init", data)

    def add(self, login: str, password: str, card: dict[str, str]) -> PaytureResponse:
        """The merchant-side Add (PCI merchants): the card in DATA; `Success="3DS"` asks for AddSubmit3DS."""
        return self.command("Add", {"VWUserLgn": login, "VWUserPsw": password, **card})

    def add_submit_3ds(self, md: str, pa_res: str) -> PaytureResponse:
        """As both official SDKs send the 3-DS answers: top-level MD and PaRes, no VWID."""
        return self._bare("AddSubmit3DS", MD=md, PaRes=pa_res)

    def activate(self, login: str, password: str, card_id: str, amount: int) -> PaytureResponse:
        """(doc) the amount held on the card when it was added."""
        data = {"VWUserLgn": login, "VWUserPsw": password, "CardId": card_id, "Amount": amount}
        return self.command("Activate", data)

    def send_code(self, login: str, password: str, card_id: str, order_id: str | None = None) -> PaytureResponse:
        data = {"VWUserLgn": login, "VWUserPsw": password, "CardId": card_id, "OrderId": order_id}
        return self.command("SendCode", data)

    def get_list(self, login: str, password: str) -> PaytureResponse:
        return self.command("GetList", {"VWUserLgn": login, "VWUserPsw": password})

    def remove(self, login: str, password: str, card_id: str) -> PaytureResponse:
        return self.command("Remove", {"VWUserLgn": login, "VWUserPsw": password, "CardId": card_id})

    # -- payments --------------------------------------------------------------------------------

    def pay(
        self,
        login: str,
        password: str,
        card_id: str,
        order_id: str,
        amount: int,
        *,
        secure_code: str | None = None,
        session_type: str = "Pay",
        ip: str = "127.0.0.1",
        card: dict[str, str] | None = None,
        confirm_code: str | None = None,
    ) -> PaytureResponse:
        """Pay with a saved card (recurring: no CVV needed), or with `card_id="FreePay"` and `card`
        (CardNumber, EMonth, EYear, CardHolder, SecureCode)."""
        data: dict[str, Any] = {
            "VWUserLgn": login,
            "VWUserPsw": password,
            "CardId": card_id,
            "SecureCode": secure_code,
            "OrderId": order_id,
            "Amount": amount,
            "IP": ip,
            "SessionType": session_type,
            "ConfirmCode": confirm_code,
            **(card or {}),
        }
        return self.command("Pay", data)

    def pay_submit_3ds(self, md: str, pa_res: str) -> PaytureResponse:
        """As the docs and both official SDKs send it: top-level MD and PaRes, no VWID."""
        return self._bare("PaySubmit3DS", MD=md, PaRes=pa_res)

    def _bare(self, name: str, **params: str) -> PaytureResponse:
        """A command whose parameters carry no VWID (the 3-D Secure answers)."""
        url = f"{self.base_url}/vwapi/{name}"
        if self.transport == "get_query":
            response = self.http.get(url, params=params, timeout=self.timeout)
        else:
            response = self.http.post(url, data=params, timeout=self.timeout)
        return parse_xml(response.text, response.status_code)

    def pay_status(self, order_id: str) -> PaytureResponse:
        return self.command("PayStatus", {"OrderId": order_id})

    def charge(self, order_id: str, amount: int | None = None) -> PaytureResponse:
        """Recorded: top-level OrderId, Amount and Password (no DATA); without `amount` the whole hold (doc)."""
        return self.command("Charge", OrderId=order_id, Amount=amount, Password=self.merchant_password)

    def unblock(self, order_id: str) -> PaytureResponse:
        """(doc) VWID, Password, OrderId: the whole hold is released."""
        return self.command("Unblock", OrderId=order_id, Password=self.merchant_password)

    def refund(self, order_id: str, amount: int | None = None) -> PaytureResponse:
        return self.command("Refund", {"Password": self.merchant_password, "OrderId": order_id, "Amount": amount})


class BehindPaytureClient:
    """The behind-API V21 `payments.payture` calls (init, initUnauthorised, finalise)."""

    PREFIX = "/api/payments/21/payture"

    def __init__(
        self,
        base_url: str,
        access_token: str | None = None,
        *,
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.http = session or requests.Session()
        self.timeout = timeout

    def _post(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if self.access_token:  # as the published behind-API client: the token in the body and in both headers
            body = {"access_token": self.access_token, **body}
            headers["AccessToken"] = self.access_token
            headers["Authorization"] = f"Bearer {self.access_token}"
        response = self.http.post(
            f"{self.base_url}{self.PREFIX}/{method}", json=body, headers=headers, timeout=self.timeout
        )
        return response.json()

    def init(self) -> dict[str, Any]:
        return self._post("init", {})

    def init_unauthorised(self, user_id: str) -> dict[str, Any]:
        return self._post("initUnauthorised", {"user_id": user_id})

    def finalise(self, user_id: str | None = None) -> dict[str, Any]:
        return self._post("finalise", {"user_id": user_id} if user_id else {})
