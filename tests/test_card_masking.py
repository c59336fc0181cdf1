"""Guardrail: card data is masked in every encoding before the journal or the log keeps it (issue 11 item 2).

Each provider's operations are sent a card number and a CVV in each encoding a client uses; the journal
and every log record are then searched for them, decoded as far as any layer of encoding goes.
"""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import unquote_plus

import pytest

from emulator import create_app

PAN, CVV = "4111111111111111", "7373"
SPACED, DASHED = "4111 1111 1111 1111", "4111-1111-1111-1111"
FORM = "application/x-www-form-urlencoded"

# (encoding, body, content type, query string, headers); each carries the PAN and the CVV.
ENCODINGS = {
    "json": (json.dumps({"card_number": SPACED, "cvv": CVV, "pan": DASHED}), "application/json", "", {}),
    "json-in-a-string": (json.dumps({"data": json.dumps({"cardNumber": PAN, "cvc": CVV})}), "application/json", "", {}),
    "form": (f"card_number={PAN}&card_cvv={CVV}", FORM, "", {}),
    "payture-data": (f"VWID=x&DATA=CardNumber%3D{PAN}%3BSecureCode%3D{CVV}", FORM, "", {}),
    "payture-data-double": (f"DATA=CardNumber%253D{PAN}%253BSecureCode%253D{CVV}", FORM, "", {}),
    "payture-data-spaced": (f"DATA=CardNumber%3D{SPACED.replace(' ', '+')}%3BCVV2%3D{CVV}", FORM, "", {}),
    "xml": (f"<Card><CardNumber>{DASHED}</CardNumber><SecureCode>{CVV}</SecureCode></Card>", "text/xml", "", {}),
    "query": ("", "application/json", f"card_number={SPACED.replace(' ', '%20')}&security_code={CVV}", {}),
    "headers": ("{}", "application/json", "", {"X-Card-Number": PAN, "X-Card-CVV": CVV, "X-Note": f"pan {SPACED}"}),
}


def _operations(app) -> dict[str, tuple[str, str | None]]:
    """Per provider: one POST operation path, and one operation path with a path argument (or None)."""
    found: dict[str, list[str | None]] = {}
    for rule in app.url_map.iter_rules():
        if not getattr(app.view_functions[rule.endpoint], "payemu_operation", None):
            continue
        slot = found.setdefault(rule.endpoint.split(".", 1)[0], [None, None])
        if slot[0] is None and "POST" in (rule.methods or ()) and "<" not in rule.rule:
            slot[0] = rule.rule
        if slot[1] is None and "<" in rule.rule:
            slot[1] = re.sub(r"<[^>]+>", PAN, rule.rule, count=1)
            slot[1] = re.sub(r"<[^>]+>", "x1", slot[1])
    return {provider: (post or "", with_arg) for provider, (post, with_arg) in found.items()}


OPERATIONS = _operations(create_app(callbacks=False))
CASES = [(p, e) for p in sorted(OPERATIONS) for e in ENCODINGS] + [
    (p, "path") for p in sorted(OPERATIONS) if OPERATIONS[p][1]
]


def _decoded(text: str) -> str:
    for _ in range(3):  # percent-encoding, once or twice, as clients send it
        text = unquote_plus(text)
    return text.replace("\\", "")


def _leaks(text: str) -> list[str]:
    text = _decoded(text)
    found = []
    if PAN in re.sub(r"(?<=[0-9])[ \-](?=[0-9])", "", text):
        found.append("PAN")
    if re.search(rf"(?i)(?:cvv2?|cvc|secure\s?code|security.?code)[^0-9]{{0,10}}{CVV}", text):
        found.append("CVV")
    return found


def test_every_provider_is_covered_and_some_have_a_path_case():
    assert set(OPERATIONS) == set(create_app().extensions["payemu"].providers)
    assert all(post for post, _ in OPERATIONS.values())
    assert any(path for _, path in OPERATIONS.values())


@pytest.mark.parametrize(("provider", "encoding"), CASES, ids=[f"{p}-{e}" for p, e in CASES])
def test_card_data_is_masked_in_the_journal_and_the_log(provider, encoding, caplog):
    app = create_app(callbacks=False)
    runtime = app.extensions["payemu"]
    client = app.test_client()
    post, with_arg = OPERATIONS[provider]
    caplog.set_level(logging.DEBUG)
    if encoding == "path":
        client.get(with_arg or "")
        client.post(with_arg or "", data="{}", content_type="application/json")
    else:
        body, content_type, query, headers = ENCODINGS[encoding]
        client.post(post + (f"?{query}" if query else ""), data=body, content_type=content_type, headers=headers)
    entries = runtime.journal.query(provider=provider)
    assert entries, "the request was not journalled: the case exercises nothing"
    for entry in entries:
        assert not _leaks(json.dumps(entry.to_json(), ensure_ascii=False)), entry.to_json()
    for record in caplog.records:
        assert not _leaks(record.getMessage()), record.getMessage()


def test_zai_card_accounts_keep_only_the_masked_number_everywhere(tmp_path):
    """Zai's own card fields (`number`, `cvv`), server side and from a card token: journal, state dump, webhook
    bodies and responses show the masked number only, and no CVV (docs/providers/zai.md#card-accounts)."""
    import yaml

    from tests.providers.zai.conftest import BUYER, TENANTS, credentials

    entries = [dict(entry) for entry in TENANTS.values()]
    entries[0]["callback_url"] = "http://127.0.0.1:9/hook"  # queued only: callbacks are off
    tenants = tmp_path / "tenants.yaml"
    tenants.write_text(yaml.safe_dump({"zai": entries}))
    app = create_app(callbacks=False, tenants_file=tenants)
    runtime, client = app.extensions["payemu"], app.test_client()
    headers = {"Authorization": "Bearer " + client.post("/tokens", data=credentials()).json["access_token"]}
    client.post("/webhooks/secret_key", json={"secret_key": "k" * 32}, headers=headers)
    client.post("/users", json={**BUYER, "id": "u1"}, headers=headers)
    card = {"full_name": "J Doe", "number": SPACED, "expiry_month": "12", "expiry_year": "2031", "cvv": CVV}
    replies = [client.post("/card_accounts", json={**card, "user_id": "u1"}, headers=headers)]
    token = client.post("/token_auths", json={"user_id": "u1", "token_type": "card"}, headers=headers).json
    replies.append(client.post("/card_accounts", json={**card, "card_token": token["token_auth"]["token"]}))
    assert [r.status_code for r in replies] == [201, 201]
    account = replies[0].json["card_accounts"]["id"]
    replies.append(client.get(f"/card_accounts/{account}", headers=headers))
    assert replies[-1].json["card_accounts"]["card"]["number"] == "XXXX-XXXX-XXXX-1111"
    texts = [r.get_data(as_text=True) for r in replies]
    texts += [json.dumps(e.to_json()) for e in runtime.journal.query(provider="zai")]
    texts.append(json.dumps(client.get("/__admin/state/zai").json))
    deliveries = runtime.callbacks.list(provider="zai")
    assert len(deliveries) >= 3  # the user and both accounts
    texts += [d.body.decode("utf-8") for d in deliveries]
    for text in texts:
        assert not _leaks(text), text


IZIPAY_CARD = {"pan": PAN, "expirationMonth": "12", "expirationYear": "2030", "cvc": CVV, "cvcPresent": "SI"}


def test_izipay_card_operations_mask_card_data_in_journal_state_and_answers(caplog):
    """Tokenization and Authorize take a card: accepted, then nowhere in full (journal, log, state, answers)."""
    from emulator.core.serialize import dump_state

    app = create_app(callbacks=False)
    runtime = app.extensions["payemu"]
    client = app.test_client()
    caplog.set_level(logging.DEBUG)
    session = client.post(
        "/security/v1/Token/Generate",
        json={
            "requestSource": "ECOMMERCE",
            "merchantCode": "4007701",
            "orderNumber": "ORDMASK01",
            "publicKey": "VErEthUtraQUxas57wUMuquprADrAHAb",
            "amount": "1.00",
        },
        headers={"transactionId": "TXMASK01"},
    ).get_json()["response"]["token"]
    headers = {"transactionId": "TXMASK01", "Authorization": f"Bearer {session}"}
    saved = client.post(
        "/tokenization/external/api/v1/tokens",
        json={"merchantCode": "4007701", "card": IZIPAY_CARD, "buyer": {"merchantBuyerId": "BUYERMASK1"}},
        headers=headers,
    )
    paid = client.post(
        "/authorization/api/Process/Authorize",
        json={
            "action": "pay",
            "merchantCode": "4007701",
            "language": "ESP",
            "card": IZIPAY_CARD,
            "order": {
                "orderNumber": "ORDMASK01",
                "currency": "PEN",
                "amount": "1.00",
                "payMethod": "card",
                "channel": "ecommerce",
                "processType": "autorize",
                "datetimeTerminalTransaction": "2025-11-28 01:22:29.000",
            },
            "billing": {"firstName": "Juan", "lastName": "Wick", "email": "jwick@gmail.com"},
        },
        headers=headers,
    )
    assert saved.status_code == 200 and paid.status_code == 200  # the card was accepted, not refused
    texts = [saved.get_data(as_text=True), paid.get_data(as_text=True)]
    texts += [json.dumps(entry.to_json(), ensure_ascii=False) for entry in runtime.journal.query(provider="izipay")]
    texts += [json.dumps(dump_state(runtime.store.peek("izipay", "4007701")), ensure_ascii=False)]
    texts += [record.getMessage() for record in caplog.records]
    for text in texts:
        assert not _leaks(text), text


def test_payelata_payout_to_a_card_keeps_only_the_masked_number(caplog):
    """A payout's `fields.card_number` (docs/providers/payelata.md#payouts): masked in the answer, the journal,
    the state dump and the callback; never kept whole in the state."""
    from emulator.core.serialize import dump_state, encode_state

    app = create_app(callbacks=False)
    runtime = app.extensions["payemu"]
    caplog.set_level(logging.DEBUG)
    auth = {"Authorization": "Basic Y29tYV82cG5rSDV2VVp3MEJsa1pZOnRlc3RfNnBua0g1dlVadzBCbGtaWV9YcTNwTHI4c1Qydlc="}
    attributes = {"reference_id": "MASK-1", "amount": 5, "currency": "USD", "service": "payment_card_usd"}
    body = {"data": {"type": "payout-invoice", "attributes": {**attributes, "fields": {"card_number": SPACED},
                     "context": {"card": {"exp_month": "12", "exp_year": "30"}}, "options": {"auto_process": True},
                     "callback_url": "https://shop.example/cb"}}}  # fmt: skip
    answer = app.test_client().post("/payout-invoices", json=body, headers=auth)
    assert answer.status_code == 201 and not _leaks(answer.get_data(as_text=True))
    assert answer.get_json()["data"]["attributes"]["fields"] == {"card_number": "411111******1111"}
    state = runtime.store.peek("payelata", "coma_6pnkH5vUZw0BlkZY")
    for text in (
        json.dumps([entry.to_json() for entry in runtime.journal.query(provider="payelata")], ensure_ascii=False),
        json.dumps(dump_state(state)),
        encode_state(state).decode("utf-8"),
        json.dumps([d.to_json() for d in runtime.callbacks.list(provider="payelata")]),
        *(record.getMessage() for record in caplog.records),
    ):
        assert not _leaks(text)


PAN, CVV = "4111111111111111", "7373"


SPACED, DASHED = "4111 1111 1111 1111", "4111-1111-1111-1111"


def test_ecommpay_card_payments_keep_no_card_number_or_cvv(caplog):
    """A sale and a payout with card data, then 3-D Secure: the journal, the log, the state dump, the
    callbacks, the status answer and the ACS page hold the masked number only, never the CVV."""
    from emulator.clients.ecommpay import signature_of

    app = create_app(callbacks=False)
    runtime = app.extensions["payemu"]
    client = app.test_client()
    caplog.set_level(logging.DEBUG)
    three_ds = "4000000000000002"
    texts: list[str] = []
    for path, payment_id, pan in (
        ("/v2/payment/card/sale", "mask-1", PAN),
        ("/v2/payment/card/payout", "mask-2", PAN),
        ("/v2/payment/card/auth", "mask-3", three_ds),
    ):
        body = {
            "general": {"project_id": 11, "payment_id": payment_id},
            "customer": {"id": "c1", "ip_address": "127.0.0.1"},
            "payment": {"amount": 100, "currency": "EUR"},
            "card": {"pan": pan, "year": 2030, "month": 5, "card_holder": "JOHN DOE", "cvv": CVV},
        }
        body["general"]["signature"] = signature_of(body, "secret")
        answer = client.post(path, json=body)
        assert answer.status_code == 200, answer.json
        texts.append(answer.get_data(as_text=True))
        status = {"general": {"project_id": 11, "payment_id": payment_id}}
        status["general"]["signature"] = signature_of(status, "secret")
        texts.append(client.post("/v2/payment/status", json=status).get_data(as_text=True))
    md = json.loads(texts[-1])["acs"]["md"]
    texts.append(client.get(f"/ecommpay-acs/{md}").get_data(as_text=True))
    texts.append(client.get("/__admin/state/ecommpay").get_data(as_text=True))
    texts += [delivery.body.decode() for delivery in runtime.callbacks.list(provider="ecommpay")]
    texts += [json.dumps(e.to_json(), ensure_ascii=False) for e in runtime.journal.query(provider="ecommpay")]
    texts += [record.getMessage() for record in caplog.records]
    assert len(runtime.callbacks.list(provider="ecommpay")) == 3
    for text in texts:
        assert not _leaks(text), text
        assert three_ds not in text and f'"cvv": "{CVV}"' not in text and f'"cvv":"{CVV}"' not in text
    assert any("411111******1111" in text for text in texts)


@pytest.mark.parametrize(
    "pan", ["4011111111111112", "5486732058864471", "4111111111100072"], ids=["ok", "3ds", "declined"]
)
def test_payture_card_commands_keep_only_masked_numbers(pan):
    """Payture's merchant-side Add, FreePay Pay and the hosted Pay page's saved card (issue 16): journal, state
    dump, notifications and pages carry the masked number only, never the PAN or the CVV."""
    from emulator.core.serialize import dump_state

    app = create_app(callbacks=False)
    runtime = app.extensions["payemu"]
    runtime.tenants["payture"].update("DemoMerchant", {"notification_url": "http://127.0.0.1:9/n"})
    client = app.test_client()
    card = f"CardNumber={pan};EMonth=12;EYear=30;CardHolder=IVAN IVANOV;SecureCode={CVV};"
    user = "VWUserLgn=mask@example.ru;VWUserPsw=pw;"
    bodies = [client.post("/vwapi/Register", data={"VWID": "DemoMerchantAdd", "DATA": user}).get_data(as_text=True)]
    bodies.append(
        client.post("/vwapi/Add", data={"VWID": "DemoMerchantAdd", "DATA": user + card}).get_data(as_text=True)
    )
    free_pay = f"{user}CardId=FreePay;OrderId=m1;Amount=100;{card}"
    bodies.append(client.post("/vwapi/Pay", data={"VWID": "DemoMerchantPay", "DATA": free_pay}).get_data(as_text=True))
    init = f"{user}SessionType=Pay;OrderId=m2;Amount=100;"
    session = re.search(
        r'SessionId="([^"]+)"',
        client.post("/vwapi/Init", data={"VWID": "DemoMerchantPay", "DATA": init}).get_data(as_text=True),
    )
    form = {
        "SessionId": session.group(1),
        "CardNumber": pan,
        "EMonth": "12",
        "EYear": "30",
        "CardHolder": "IVAN IVANOV",
    }
    bodies.append(
        client.post("/vwapi/Pay/Submit", data={**form, "SecureCode": CVV, "SaveCard": "on"}).get_data(as_text=True)
    )
    texts = bodies + [json.dumps(e.to_json(), ensure_ascii=False) for e in runtime.journal.query(provider="payture")]
    texts += [d.body.decode() for d in runtime.callbacks.list(provider="payture")]
    state = runtime.store.peek("payture", "DemoMerchant")
    texts.append(json.dumps(dump_state(state), ensure_ascii=False, default=str))
    three_ds = pan == "5486732058864471"  # every step waits for the ACS: its pages, no notification
    assert three_ds or runtime.callbacks.list(provider="payture"), "no notification: the case exercises nothing"
    assert not three_ds or "548673xxxxxx4471" in bodies[-1]
    for text in texts:
        assert pan not in _decoded(text), text[:300]
        assert not re.search(rf"(?i)(?:securecode|cvv)[^0-9]{{0,10}}{CVV}", _decoded(text)), text[:300]
