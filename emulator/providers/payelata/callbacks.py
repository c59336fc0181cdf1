"""Payelata callbacks (docs/providers/payelata.md#callbacks): the JSON:API invoice, signed, retried after 1, 2, 3 …
minutes."""

from __future__ import annotations

import copy
import json
from typing import Any

from emulator.core.provider import TenantContext
from emulator.providers.payelata.model import FINAL, PAYOUT_FINAL, Event
from emulator.providers.payelata.signing import SIGNATURE_HEADER, signature

# (inferred) docs/providers/payelata.md#callbacks: "body in JSON-API format"
CALLBACK_CONTENT_TYPE = "application/vnd.api+json"
STAGGER_MS = 25
# (doc) docs/providers/payelata.md#callbacks: the n-th retry comes n minutes after the previous attempt
RETRY_STEP_SECONDS = 60.0


def retry_delays(context: TenantContext) -> tuple[float, ...]:
    """(doc) docs/providers/payelata.md#callbacks: linearly increasing, up to 100 attempts (the core applies
    `callback_retry_scale`)."""
    attempts = int(context.option("callback_max_attempts"))
    return tuple(RETRY_STEP_SECONDS * step for step in range(1, attempts))


def encode(wire: dict[str, Any]) -> bytes:
    return json.dumps(wire, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def send_events(context: TenantContext, events: list[Event], *, batch: bool = False) -> int:
    """Queue one signed callback per status change, or (batching, the default) one per object with its latest
    state; return how many were queued."""
    tenant = context.tenant
    if tenant is None or not events:
        return 0
    if batch or context.flag("callback_batching"):
        latest: dict[str, Event] = {}
        # (doc) docs/providers/payelata.md#callbacks: close changes of one object are batched, latest state wins
        for event in events:
            latest.pop(event.invoice_id, None)
            latest[event.invoice_id] = event
        events = list(latest.values())
    final_only = context.flag("callback_final_only")
    strip_card = context.flag("callback_strip_card")
    sent = 0
    effects = dict(context.callback_effects)
    for event in events:
        url = context.callback_url(event.callback_url)
        final = PAYOUT_FINAL if event.kind == "payout-invoice" else FINAL
        if not url or (final_only and event.status not in final):
            continue
        wire = event.wire
        payload = wire["data"]["attributes"].get("payload")
        if strip_card and isinstance(payload, dict) and "payment_card" in payload:
            # (doc) docs/providers/payelata.md#callbacks: the account option that removes the masked card
            wire = copy.deepcopy(wire)
            del wire["data"]["attributes"]["payload"]["payment_card"]
        body = encode(wire)
        # (doc) docs/providers/payelata.md#callbacks: signed with the test or live secret, matching the invoice's mode.
        secret = str(tenant.get("callback_secret_test" if event.test_mode else "callback_secret_live") or "")
        # A scenario's `reorder` holds back only the first callback, so the next one overtakes it.
        # Changes of one call leave STAGGER_MS apart, so that they usually arrive in order (the
        # dispatcher sends in parallel); `reorder` scenarios still shuffle them on purpose.
        context.callback_effects = {
            **effects,
            "reorder": bool(effects.get("reorder")) and sent == 0,
            "delay_ms": int(effects.get("delay_ms", 0)) + STAGGER_MS * sent,
        }
        context.send_callback(
            url=url,
            body=body,
            headers={"Content-Type": CALLBACK_CONTENT_TYPE, SIGNATURE_HEADER: signature(secret, body)},
            event=f"{event.kind}.{event.status}",
            retry_delays=retry_delays(context),
            # (doc) docs/providers/payelata.md#callbacks: anything but HTTP 200 is a failed delivery
            success_codes=(200,),
        )
        sent += 1
    context.callback_effects = effects
    return sent
