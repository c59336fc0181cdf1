"""Zai's signed webhooks (docs/providers/zai.md#webhooks): `Webhooks-signature: t=<unix>,v=<sig>`.

`sig = base64url_nopad(HMAC_SHA256(secret_key, "<t>.<raw_body>"))` (code: zai_payment webhook.rb). Each change
of an item, transaction, account or user goes to the enabled webhook of its object type with the object's
`Show` body (doc: developer.hellozai.com/docs/webhooks), one job per delivery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from emulator.core.provider import TenantContext
from emulator.providers.zai.model import MAX_JOBS, TEST_WEBHOOK, Notice, WebhookJob

SIGNATURE_HEADER = "Webhooks-signature"
CONTENT_TYPE = "application/json"
# (doc) docs/webhooks: a failed job is resent "for up to 24 hours with an exponential backoff"; (inferred) the steps:
# 1 min doubling, ten retries (~17 h). The options callback_retry_delays / callback_retry_scale adjust it.
RETRY_DELAYS = tuple(60.0 * 2**step for step in range(10))
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


def notify(context: TenantContext, notices: list[Notice]) -> int:
    """Send each change to the enabled webhook of its object type (a job per delivery); without any webhook of
    that type, to the tenant's `callback_url` once it registered a secret (inferred: the emulator's stand-in
    subscription). Return how many were queued."""
    sent = 0
    for notice in notices:
        hooks = context.state.subscribers(notice.object_type)
        if not hooks:
            if context.state.webhook_secret:  # (inferred) the tenant file's stand-in subscription, once signed
                sent += send(context, event=notice.object_type, body=notice.body) is not None
            continue
        for hook in hooks:
            delivery = send(context, event=notice.object_type, body=notice.body, url=hook.url)
            if delivery:
                job = WebhookJob(context.uuid4(), notice.object_id, delivery.id, notice.body, context.now)
                hook.jobs = [*hook.jobs[-(MAX_JOBS - 1) :], job]
                sent += 1
    return sent


def job_status(context: TenantContext, job: WebhookJob) -> str:
    """(code) the gem's job statuses `success` / `failed`; (inferred) `pending` while the outbox still retries."""
    status = context.callback_status(job.delivery_id)
    if status == "delivered":
        return "success"
    if status in ("failed", "dropped"):
        return "failed"
    return "pending"


def send(context: TenantContext, *, event: str, body: Any, url: str | None = None) -> Any:
    """Sign and queue one webhook to `url` or the tenant's `callback_url`; the outbox delivery, or None when
    there is nowhere to send.

    Without a registered secret the webhook goes unsigned. (inferred) Zai only signs once a secret exists.
    """
    target = context.callback_url(url)
    if not target:
        return None
    payload = encode(body)
    headers = {"Content-Type": CONTENT_TYPE}
    secret = context.state.webhook_secret if context.state is not None else None
    if secret:
        headers[SIGNATURE_HEADER] = signature_header(secret, int(context.now), payload)
    return context.send_callback(
        url=target,
        body=payload,
        headers=headers,
        event=event,
        retry_delays=RETRY_DELAYS,
        success_codes=SUCCESS_CODES,
    )


def dispatch_pending(context: TenantContext) -> int:
    """Send the webhooks scenarios queued on the tenant's state; return how many went out."""
    sent = 0
    for pending in context.state.drain_webhooks():
        sent += send(context, event=pending.event, body=pending.body, url=pending.url) is not None
    return sent


def send_now(context: TenantContext, event: str = "test", body: Any = None, url: str | None = None) -> dict:
    """Admin action `send_webhook`: sign and send one webhook now (POST /__admin/actions/zai/<tenant>/send_webhook);
    by default Zai's test body."""
    sent = send(context, event=event, body=body if body is not None else dict(TEST_WEBHOOK), url=url)
    return {"sent": sent is not None}
