"""A Zai client on `requests`: OAuth client credentials, users, Generate Token, webhook signatures.

It imports only the standard library, requests and `clients/_http.py`: it must not share encoding or
signing code with the emulator, so that a bug on one side cannot hide the same bug on the other. It behaves like the
`zai_payment` gem: the access token is cached until 60 s before it expires, a 401 on the core API
refreshes it once, and errors are typed by status with the provider's message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from emulator.clients._http import (
    ApiError,
    BadRequest,
    Forbidden,
    HttpClient,
    NotFound,
    RateLimited,
    Unauthorized,
    Unprocessable,
)
from emulator.clients._http import ServerError as HttpServerError

TOKEN_REFRESH_MARGIN = 60  # seconds before expiry at which a cached token is renewed (the gem's rule)
DEFAULT_TIMEOUT = 10.0
WEBHOOK_TOLERANCE = 300  # seconds; the gem's default


class ZaiError(ApiError):
    """Any Zai error; `status` (0 when refused before sending), `message` and the parsed `body` are kept."""


class BadRequestError(ZaiError, BadRequest):
    """400."""


class UnauthorizedError(ZaiError, Unauthorized):
    """401 (after one token refresh on the core API)."""


class ForbiddenError(ZaiError, Forbidden):
    """403."""


class NotFoundError(ZaiError, NotFound):
    """404."""


class ValidationError(ZaiError, Unprocessable):
    """422, or a call refused before sending (status 0); `errors` holds Zai's per-field messages."""

    @property
    def errors(self) -> dict[str, Any]:
        return self.body.get("errors", {}) if isinstance(self.body, dict) else {}


class RateLimitError(ZaiError, RateLimited):
    """429; `retry_after` is the Retry-After header in seconds, when given."""

    retry_after: float | None = None


class ServerError(ZaiError, HttpServerError):
    """5xx."""


class AuthError(ZaiError):
    """The token endpoint answered without an access token."""


class SignatureError(ValueError):
    """A webhook signature header is malformed, stale or does not match."""


ERRORS_BY_STATUS: dict[int, type[ZaiError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    422: ValidationError,
    429: RateLimitError,
}


def error_message(status: int, body: Any) -> str:
    """The message the gem shows: `error`, else `message`, else `errors` as `key: value, ...`."""
    if isinstance(body, dict):
        for key in ("error", "message"):
            if body.get(key):
                return str(body[key])
        errors = body.get("errors")
        if isinstance(errors, dict) and errors:
            parts = []
            for key, value in errors.items():
                text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
                parts.append(f"{key}: {text}")
            return ", ".join(parts)
    return f"HTTP {status}"


def error_for(response: requests.Response) -> ZaiError:
    """Build the typed exception for a failed response."""
    try:
        body = response.json()
    except ValueError:
        body = response.text or None
    status = response.status_code
    cls = ERRORS_BY_STATUS.get(status) or (ServerError if status >= 500 else ZaiError)
    error = cls(status, error_message(status, body), body=body)
    if isinstance(error, RateLimitError):
        retry_after = response.headers.get("Retry-After")
        error.retry_after = float(retry_after) if retry_after and retry_after.isdigit() else None
    return error


def _refused(message: str) -> ValidationError:
    """A call the client refuses before sending, as the gem does."""
    return ValidationError(0, message)


class ZaiClient:
    """Talk to Zai (or payemu) as a marketplace: `base_url` is the core API, `auth_url` the token issuer."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        scope: str,
        *,
        auth_url: str | None = None,
        webhooks_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 0,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        session = session or requests.Session()
        # No retry by default, as the gem: a retried create could hide the failure a test wants to see.
        self.http = HttpClient(base_url, timeout=timeout, retries=retries, session=session)
        self.auth_http = HttpClient(auth_url or base_url, timeout=timeout, retries=retries, session=session)
        # The webhooks API lives on the VA host in Zai (the gem's :va_base); payemu serves it beside the core API.
        self.webhooks_http = HttpClient(webhooks_url or base_url, timeout=timeout, retries=retries, session=session)
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_expires_at = 0.0
        self.token_requests = 0  # how many times /tokens was called (for tests and diagnostics)

    # -- OAuth --------------------------------------------------------------------------------------

    def access_token(self, *, force: bool = False) -> str:
        """Return a cached access token, fetching a new one 60 s before the old one expires."""
        with self._lock:
            if not force and self._token and self._clock() < self._token_expires_at - TOKEN_REFRESH_MARGIN:
                return self._token
            response = self.auth_http.request(
                "POST",
                "/tokens",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "scope": self.scope,
                },
                headers={"Accept": "application/json"},
            )
            self.token_requests += 1
            if response.status_code >= 400:
                raise error_for(response)
            try:
                body = response.json()
            except ValueError as exc:
                raise AuthError(response.status_code, "Token response is not JSON") from exc
            token = body.get("access_token") or body.get("token") if isinstance(body, dict) else None
            if not token:
                raise AuthError(response.status_code, "No access_token found", body=body)
            self._token = str(token)
            self._token_expires_at = self._clock() + float(body.get("expires_in") or 3600)
            return self._token

    def invalidate_token(self) -> None:
        """Forget the cached token (the next call fetches a new one)."""
        with self._lock:
            self._token = None
            self._token_expires_at = 0.0

    # -- core API -----------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        http: HttpClient | None = None,
    ) -> requests.Response:
        """Send a core API call with the bearer token; on 401 refresh the token and try once more."""
        via = http or self.http
        response = self._send(via, method, path, json=json, params=params, token=self.access_token())
        if response.status_code == 401:
            self.invalidate_token()
            response = self._send(via, method, path, json=json, params=params, token=self.access_token(force=True))
        if response.status_code >= 400:
            raise error_for(response)
        return response

    def _send(
        self,
        http: HttpClient,
        method: str,
        path: str,
        *,
        json: Any,
        params: Mapping[str, Any] | None,
        token: str,
    ) -> requests.Response:
        return http.request(
            method,
            path,
            json=json,
            params=dict(params) if params else None,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )

    def create_user(self, **fields: Any) -> dict[str, Any]:
        """Create a user (payin or payout); return the user object."""
        return self.request("POST", "/users", json=fields).json()["users"]

    def get_user(self, user_id: str) -> dict[str, Any]:
        """Return one user."""
        if not user_id or not str(user_id).strip():
            raise _refused("user_id is required and cannot be blank")
        return self.request("GET", f"/users/{user_id}").json()["users"]

    def list_users(self, *, limit: int = 10, offset: int = 0, search: str | None = None) -> dict[str, Any]:
        """Return `{"users": [...], "meta": {...}}`; `users` is [] when Zai omits the key (empty list)."""
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if search:
            params["search"] = search
        body = self.request("GET", "/users", params=params).json()
        return {"users": body.get("users") or [], "meta": body.get("meta") or {}, "links": body.get("links") or {}}

    def generate_token(self, user_id: str, token_type: str = "bank") -> dict[str, Any]:
        """Generate a card or bank token for a user; return `{"token_type", "token", "user_id", ...}`."""
        if not user_id or not str(user_id).strip():
            raise _refused("user_id is required and cannot be blank")
        if str(token_type).lower() not in ("bank", "card"):
            raise _refused("token_type must be one of: bank, card")
        body = self.request("POST", "/token_auths", json={"token_type": token_type, "user_id": user_id}).json()
        return body["token_auth"]

    def create_webhook_secret(self, secret_key: str) -> dict[str, Any]:
        """Register the secret Zai signs webhooks with (ASCII, at least 32 bytes)."""
        if not secret_key.isascii():
            raise _refused("secret_key must contain only ASCII characters")
        if len(secret_key.encode("ascii")) < 32:
            raise _refused("secret_key must be at least 32 bytes in size")
        return self.request(
            "POST", "/webhooks/secret_key", json={"secret_key": secret_key}, http=self.webhooks_http
        ).json()

    # -- card, bank and wallet accounts ---------------------------------------------------------------

    def create_card_account(self, user_id: str, **card: Any) -> dict[str, Any]:
        """Server side (a PCI merchant): full_name, number, expiry_month, expiry_year, cvv; return the account."""
        return self.request("POST", "/card_accounts", json={"user_id": user_id, **card}).json()["card_accounts"]

    def create_card_account_with_token(self, card_token: str, **card: Any) -> dict[str, Any]:
        """As PromisePay.js / hosted fields do from the browser: no bearer, the card token auth in the body."""
        return self._browser("/card_accounts", {"card_token": card_token, **card})["card_accounts"]

    def get_card_account(self, account_id: str) -> dict[str, Any]:
        return self.request("GET", f"/card_accounts/{account_id}").json()["card_accounts"]

    def delete_card_account(self, account_id: str) -> dict[str, Any]:
        """Redact a card account (it can no longer pay)."""
        return self.request("DELETE", f"/card_accounts/{account_id}").json()

    def create_bank_account(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """The AU/US field set, or the UK one (country GBR with iban and swift_code)."""
        return self.request("POST", "/bank_accounts", json={"user_id": user_id, **fields}).json()["bank_accounts"]

    def create_bank_account_with_token(self, bank_token: str, **fields: Any) -> dict[str, Any]:
        return self._browser("/bank_accounts", {"bank_token": bank_token, **fields})["bank_accounts"]

    def get_bank_account(self, account_id: str, *, include_decrypted_fields: bool = False) -> dict[str, Any]:
        params = {"include_decrypted_fields": "true"} if include_decrypted_fields else None
        return self.request("GET", f"/bank_accounts/{account_id}", params=params).json()["bank_accounts"]

    def delete_bank_account(self, account_id: str) -> dict[str, Any]:
        return self.request("DELETE", f"/bank_accounts/{account_id}").json()

    def set_disbursement_account(self, user_id: str, account_id: str) -> dict[str, Any]:
        return self.request("PATCH", f"/users/{user_id}/disbursement_account", json={"account_id": account_id}).json()

    def get_wallet_account(self, account_id: str) -> dict[str, Any]:
        return self.request("GET", f"/wallet_accounts/{account_id}").json()["wallet_accounts"]

    def user_wallet_account(self, user_id: str) -> dict[str, Any]:
        return self.request("GET", f"/users/{user_id}/wallet_accounts").json()["wallet_accounts"]

    def _browser(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.request("POST", path, json=body, headers={"Accept": "application/json"})
        if response.status_code >= 400:
            raise error_for(response)
        return response.json()

    # -- items and their actions ------------------------------------------------------------------------

    def create_item(self, **fields: Any) -> dict[str, Any]:
        """id, name, amount (cents), payment_type (1-7), buyer_id, seller_id, …; return the item."""
        return self.request("POST", "/items", json=fields).json()["items"]

    def get_item(self, item_id: str) -> dict[str, Any]:
        return self.request("GET", f"/items/{item_id}").json()["items"]

    def list_items(self, *, limit: int = 10, offset: int = 0, search: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "offset": offset, **({"search": search} if search else {})}
        body = self.request("GET", "/items", params=params).json()
        return {"items": body.get("items") or [], "meta": body.get("meta") or {}}

    def item_status(self, item_id: str) -> dict[str, Any]:
        return self.request("GET", f"/items/{item_id}/status").json()["items"]

    def item_transactions(self, item_id: str) -> list[dict[str, Any]]:
        return self.request("GET", f"/items/{item_id}/transactions").json().get("transactions") or []

    def _action(self, item_id: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        fields = {k: v for k, v in (body or {}).items() if v is not None}
        return self.request("PATCH", f"/items/{item_id}/{action}", json=fields).json()

    def make_payment(self, item_id: str, account_id: str, **extra: Any) -> dict[str, Any]:
        """Pay with the buyer's card, bank or wallet account (device_id, ip_address, cvv optional)."""
        return self._action(item_id, "make_payment", {"account_id": account_id, **extra})["items"]

    def make_payment_async(
        self, item_id: str, account_id: str, request_three_d_secure: str | None = None
    ) -> dict[str, Any]:
        """A 3-D Secure card payment: `{payment_id, account_id, payment_token, items}`."""
        body = {"account_id": account_id, "request_three_d_secure": request_three_d_secure}
        return self._action(item_id, "make_payment_async", body)

    def authorize_payment(self, item_id: str, account_id: str, **extra: Any) -> dict[str, Any]:
        return self._action(item_id, "authorize_payment", {"account_id": account_id, **extra})["items"]

    def capture_payment(self, item_id: str, amount: int | None = None) -> dict[str, Any]:
        return self._action(item_id, "capture_payment", {"amount": amount})["items"]

    def void_payment(self, item_id: str) -> dict[str, Any]:
        return self._action(item_id, "void_payment")["items"]

    def cancel_item(self, item_id: str) -> dict[str, Any]:
        return self._action(item_id, "cancel")["items"]

    def release_payment(self, item_id: str) -> dict[str, Any]:
        return self._action(item_id, "release_payment")["items"]

    def refund(
        self, item_id: str, refund_amount: int | None = None, refund_message: str | None = None
    ) -> dict[str, Any]:
        body = {"refund_amount": refund_amount, "refund_message": refund_message}
        return self._action(item_id, "refund", body)["items"]

    # -- webhooks (the VA host's API) -------------------------------------------------------------------

    def create_webhook(
        self, url: str, object_type: str, *, enabled: bool = True, description: str | None = None
    ) -> dict[str, Any]:
        body = {"url": url, "object_type": object_type, "enabled": enabled}
        if description is not None:
            body["description"] = description
        return self.request("POST", "/webhooks", json=body, http=self.webhooks_http).json()["webhooks"]

    def list_webhooks(self) -> list[dict[str, Any]]:
        return self.request("GET", "/webhooks", http=self.webhooks_http).json().get("webhooks") or []

    def update_webhook(self, webhook_id: str, **fields: Any) -> dict[str, Any]:
        path = f"/webhooks/{webhook_id}"
        return self.request("PATCH", path, json=fields, http=self.webhooks_http).json()["webhooks"]

    def delete_webhook(self, webhook_id: str) -> dict[str, Any]:
        return self.request("DELETE", f"/webhooks/{webhook_id}", http=self.webhooks_http).json()

    def list_webhook_jobs(
        self, webhook_id: str, *, status: str | None = None, object_id: str | None = None
    ) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("status", status), ("object_id", object_id)) if v is not None}
        path = f"/webhooks/{webhook_id}/jobs"
        return self.request("GET", path, params=params, http=self.webhooks_http).json().get("jobs") or []

    def close(self) -> None:
        self.http.close()

    # -- webhooks -----------------------------------------------------------------------------------

    @staticmethod
    def webhook_signature(payload: bytes | str, secret_key: str, timestamp: int) -> str:
        """base64url (no padding) of HMAC-SHA256(secret, "<timestamp>.<payload>")."""
        raw = payload.encode("utf-8") if isinstance(payload, str) else payload
        mac = hmac.new(secret_key.encode("utf-8"), str(timestamp).encode("ascii") + b"." + raw, hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).decode("ascii").rstrip("=")

    @classmethod
    def verify_webhook(
        cls,
        payload: bytes | str,
        signature_header: str,
        secret_key: str,
        *,
        tolerance: float = WEBHOOK_TOLERANCE,
        now: float | None = None,
    ) -> bool:
        """Check a `Webhooks-signature: t=<unix>,v=<sig>[,v=...]` header; raise SignatureError when it fails."""
        timestamp: int | None = None
        signatures: list[str] = []
        for part in signature_header.split(","):
            key, _, value = part.strip().partition("=")
            if key == "t" and value.isdigit():
                timestamp = int(value)
            elif key == "v" and value:
                signatures.append(value)
        if timestamp is None:
            raise SignatureError("Invalid signature header: missing or invalid timestamp")
        if not signatures:
            raise SignatureError("Invalid signature header: missing signature")
        current = time.time() if now is None else now
        if abs(current - timestamp) > tolerance:
            raise SignatureError(f"Webhook timestamp is outside tolerance ({abs(current - timestamp):.0f}s)")
        expected = cls.webhook_signature(payload, secret_key, timestamp)
        if not any(hmac.compare_digest(expected, sig) for sig in signatures):
            raise SignatureError("Webhook signature does not match")
        return True
