"""Zai error envelopes and the named error catalogue (docs/providers/zai.md#access-tokens, #errors, #open-questions).

Zai has three envelopes: the auth API's `{"error": "..."}` (docs/providers/zai.md#access-tokens), the core API's
Rails-style `{"errors": {field: [messages]}}` (docs/providers/zai.md#errors), and the recorded record-access refusal
`{"code": 405, "message": "..."}` (401). Bearer-token refusals have no recording (docs/providers/zai.md#q4): see
`BearerRejected`.
"""

from __future__ import annotations

from typing import Any

from emulator.core.errors import ProviderError

# (doc) docs/providers/zai.md#access-tokens: the auth API's OpenAPI examples.
MSG_BAD_REQUEST = "bad request"
MSG_INVALID_CREDENTIALS = "invalid credentials"
MSG_INVALID_CLIENT_DETAILS = "invalid client details"
MSG_SOMETHING_WRONG = "something went wrong"

# (code, recorded) docs/providers/zai.md#errors.
MSG_REQUIRED = "required field missing"
MSG_INVALID_FORMAT = "invalid format"
MSG_BLANK = "can't be blank"
MSG_INVALID = "is invalid"
MSG_NOT_AUTHORIZED_RECORD = "Not authorized to access that record."
# (inferred) docs/providers/zai.md#errors: recorded for items as "item with this id already exists"; the same sentence
# for users.
MSG_DUPLICATE_USER = "user with this id already exists"
# (inferred) Rails' stock validation messages, the framework the recorded ones come from.
MSG_NOT_IN_LIST = "is not included in the list"
MSG_TOO_SHORT_SECRET = "is too short (minimum is 32 characters)"
MSG_NOT_ASCII = "must contain only ASCII characters"
MSG_NOT_FOUND = "not found"
MSG_TAKEN = "has already been taken"  # (inferred) Rails' uniqueness message: a second user with the same email
MSG_NO_ACCOUNT = "no account found"  # (code, recorded) users_card_account_empty.yml, users_bank_account_empty.yml
MSG_DUPLICATE_ITEM = "item with this id already exists"  # (code, recorded) items_created_error.yml
MSG_MIN_COST = "must be greater than or equal to 100"  # (code, recorded) items_updated_error.yml: amount 1
MSG_CARD_NUMBER = "is not a valid credit card number"  # (inferred) ActiveMerchant's wording (brand names match)
MSG_EXPIRED = "card has expired"  # (inferred)
MSG_FULL_NAME = "must contain a space"  # (doc) card_account_requestBody: "User full name with at least a space"
MSG_TOKEN_INVALID = "is invalid"  # (inferred) an unknown token auth, or one of another type or user
MSG_TOKEN_EXPIRED = "has expired"  # (inferred) docs/providers/zai.md#token-auth-lifecycle: "typically 1 hour"
MSG_TOKEN_USED = "has already been used"  # (inferred) docs/providers/zai.md#token-auth-lifecycle: "used once"
MSG_NOT_ACTIVE = "is not active"  # (inferred) a redacted account
MSG_NOT_CARD = "must be a card account"  # (inferred) authorize/make_payment_async take cards only
MSG_NOT_BUYERS = "does not belong to the buyer"  # (inferred)
MSG_DECLINED = "Payment failed: card declined"  # (inferred) no recorded decline
MSG_NO_FUNDS_CARD = "Payment failed: insufficient funds"  # (inferred)
MSG_THREE_DS = "Payment failed: 3D Secure authentication required, use make_payment_async"  # (inferred)
MSG_WALLET_FUNDS = "insufficient funds in the wallet account"  # (inferred)
MSG_SAME_PARTIES = "buyer and seller must be different users"  # (inferred)
MSG_REDACTED = "Successfully redacted account."  # (code, recorded) card_accounts_deactivated.yml (bank: no ".")
MSG_USER_UPDATED = "Successfully updated user."  # (code, recorded) users_disbursement_account.yml

# (inferred) docs/providers/zai.md#errors: the assembly-payments client treats exactly this value as "do not refresh".
TOKEN_NOT_AUTHORIZED = "is not authorized"
# (inferred) docs/providers/zai.md#q4: any other 401 makes clients refresh; an expired token must be one of those.
TOKEN_EXPIRED = "has expired"
# (inferred) docs/providers/zai.md#q4, style "gateway": the AWS API Gateway + Cognito authorizer wording.
GATEWAY_UNAUTHORIZED = "Unauthorized"
GATEWAY_EXPIRED = "The incoming token has expired"
GATEWAY_THROTTLED = "Too Many Requests"
GATEWAY_UNAVAILABLE = "Service Unavailable"


class ZaiError(ProviderError):
    """Base of Zai's errors: a status and a literal body."""

    status = 400

    def __init__(self, payload: Any, *, status: int | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(payload), status=status, headers=headers)
        self.payload = payload

    def body(self, now: float) -> Any:
        return self.payload


class AuthApiError(ZaiError):
    """The auth API envelope `{"error": "..."}` (doc) docs/providers/zai.md#access-tokens."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__({"error": message}, status=status)


def bad_request() -> AuthApiError:
    return AuthApiError(MSG_BAD_REQUEST, 400)


def invalid_credentials() -> AuthApiError:
    return AuthApiError(MSG_INVALID_CREDENTIALS, 401)


def invalid_client_details() -> AuthApiError:
    return AuthApiError(MSG_INVALID_CLIENT_DETAILS, 422)


def server_error() -> AuthApiError:
    # (doc) docs/providers/zai.md#access-tokens for the auth API; (inferred) the same body on the core API, whose 500 is
    # unrecorded.
    return AuthApiError(MSG_SOMETHING_WRONG, 500)


class ValidationFailed(ZaiError):
    """422 `{"errors": {field: [message, ...]}}`, fields in the order they were found (code, recorded)."""

    status = 422

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__({"errors": {name: list(messages) for name, messages in errors.items()}})
        self.errors = errors

    @classmethod
    def one(cls, field: str, message: str) -> ValidationFailed:
        return cls({field: [message]})


class RecordNotAuthorized(ZaiError):
    """(code, recorded) docs/providers/zai.md#errors: an unknown or foreign record answers 401 with `code` 405."""

    status = 401

    def __init__(self) -> None:
        super().__init__({"code": 405, "message": MSG_NOT_AUTHORIZED_RECORD})


class RecordNotFound(ZaiError):
    """(inferred) docs/providers/zai.md#errors candidate 2: what the gem docs expect (`NotFoundError`), behind an
    option."""

    status = 404

    def __init__(self, field: str = "id") -> None:
        super().__init__({"errors": {field: [MSG_NOT_FOUND]}})


class WalletNotAuthorized(ZaiError):
    """(code, recorded) wallet_accounts_unknown.yml: an unknown wallet account answers this 401, not `code` 405."""

    status = 401

    def __init__(self) -> None:
        super().__init__({"errors": {"not_authorized": ["to access that record"]}})


def invalid_transition(action: str, state: str) -> ValidationFailed:
    """(inferred) an item action its state does not allow: 422 under `base`, like the recorded duplicate id."""
    return ValidationFailed.one("base", f"cannot {action} an item that is {state}")


def at_most(field: str, limit: int) -> ValidationFailed:
    """(inferred) Rails' numericality wording, as the recorded `cost` minimum."""
    return ValidationFailed.one(field, f"must be less than or equal to {limit}")


class BearerRejected(ZaiError):
    """401 for a missing, malformed, foreign or expired access token (docs/providers/zai.md#errors, #q4; both styles
    inferred)."""

    status = 401

    def __init__(self, *, expired: bool = False, style: str = "rails") -> None:
        if style == "gateway":
            payload: dict[str, Any] = {"message": GATEWAY_EXPIRED if expired else GATEWAY_UNAUTHORIZED}
        else:
            payload = {"errors": {"token": TOKEN_EXPIRED if expired else TOKEN_NOT_AUTHORIZED}}
        super().__init__(payload)
        self.expired = expired


class Throttled(ZaiError):
    """(inferred) 429: no recording; the gateway's throttling body."""

    status = 429

    def __init__(self) -> None:
        super().__init__({"message": GATEWAY_THROTTLED})


class Unavailable(ZaiError):
    """(inferred) 503: no recording; the gateway's body."""

    status = 503

    def __init__(self) -> None:
        super().__init__({"message": GATEWAY_UNAVAILABLE})


class RouteNotFound(ZaiError):
    """(inferred) an unknown path under a Zai prefix; the real body is unrecorded."""

    status = 404

    def __init__(self) -> None:
        super().__init__({"error": MSG_NOT_FOUND})


class MethodNotAllowed(ZaiError):
    """(inferred) a wrong method on a Zai path; the real body is unrecorded."""

    status = 405

    def __init__(self) -> None:
        super().__init__({"error": "method not allowed"})


CATALOGUE = {
    "bad_request": bad_request,
    "invalid_credentials": invalid_credentials,
    "invalid_client_details": invalid_client_details,
    "server_error": server_error,
    "service_unavailable": Unavailable,
    "rate_limited": Throttled,
    "access_token_invalid": BearerRejected,
    "access_token_expired": lambda: BearerRejected(expired=True),
    # Named errors cannot read options, so the gateway style (option auth_error_style) has its own names.
    "access_token_invalid_gateway": lambda: BearerRejected(style="gateway"),
    "access_token_expired_gateway": lambda: BearerRejected(expired=True, style="gateway"),
    "record_not_authorized": RecordNotAuthorized,
    "user_not_found": lambda: RecordNotFound("user_id"),
    "user_id_missing": lambda: ValidationFailed.one("user_id", MSG_REQUIRED),
    "card_declined": lambda: ValidationFailed.one("base", MSG_DECLINED),
    "insufficient_wallet_funds": lambda: ValidationFailed.one("base", MSG_WALLET_FUNDS),
    "three_d_secure_required": lambda: ValidationFailed.one("base", MSG_THREE_DS),
    "token_auth_expired": lambda: ValidationFailed.one("card_token", MSG_TOKEN_EXPIRED),
}
