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
