"""Zai's signed webhooks (docs/providers/zai.md#webhooks): `Webhooks-signature: t=<unix>,v=<sig>`.

`sig = base64url_nopad(HMAC_SHA256(secret_key, "<t>.<raw_body>"))` (code: zai_payment webhook.rb).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from emulator.core.provider import TenantContext

SIGNATURE_HEADER = "Webhooks-signature"
CONTENT_TYPE = "application/json"
# (inferred) Zai retries failed deliveries; its schedule is unpublished. 2xx counts as delivered.
RETRY_DELAYS = (1.0, 5.0, 30.0)
SUCCESS_CODES = (200, 201, 202, 204)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Return the `v=` value for a body sent at `timestamp`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode("ascii"), signed, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """Return the whole `Webhooks-signature` header value (one secret, so one `v=`)."""
    return f"t={timestamp},v={signature(secret, timestamp, body)}"


def encode(body: Any) -> bytes:
    """Compact JSON, as the test vector's (docs/providers/zai.md#webhooks) body `{"event":"status_updated"}`."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def send(context: TenantContext, *, event: str, body: Any, url: str | None = None) -> bool:
    """Sign and queue one webhook to `url` or the tenant's `callback_url`; False when there is nowhere to send.

    Without a registered secret the webhook goes unsigned. (inferred) Zai only signs once a secret exists.
    """
    target = context.callback_url(url)
    if not target:
        return False
    payload = encode(body)
    headers = {"Content-Type": CONTENT_TYPE}
    secret = context.state.webhook_secret if context.state is not None else None
    if secret:
        headers[SIGNATURE_HEADER] = signature_header(secret, int(context.now), payload)
    context.send_callback(
        url=target,
        body=payload,
        headers=headers,
        event=event,
        retry_delays=RETRY_DELAYS,
        success_codes=SUCCESS_CODES,
    )
    return True


def dispatch_pending(context: TenantContext) -> int:
    """Send the webhooks scenarios queued on the tenant's state; return how many went out."""
    sent = 0
    for pending in context.state.drain_webhooks():
        sent += send(context, event=pending.event, body=pending.body, url=pending.url)
    return sent


def send_now(context: TenantContext, event: str = "status_updated", body: Any = None, url: str | None = None) -> dict:
    """Admin action `send_webhook`: sign and send one webhook now (POST /__admin/actions/zai/<tenant>/send_webhook)."""
    sent = send(context, event=event, body=body if body is not None else {"event": event}, url=url)
    return {"sent": sent}
