"""Payture rules called directly with a fixed `now`, and the wire module (DATA decoding, XML rendering)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from urllib.parse import quote, quote_plus

import pytest

from emulator.core.cards import luhn_valid
from emulator.core.serialize import to_data
from emulator.core.tenants import Tenant
from emulator.providers.payture import wire
from emulator.providers.payture.errors import PaytureError, error_attrs
from emulator.providers.payture.model import CardInput, PaytureState, card_expiry, validate_card

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC).timestamp()
TENANT = Tenant("payture", "M", {"id": "M", "password": "pw"})
CARD = CardInput("4011111111111112", "12", "30", "IVAN IVANOV", "123")


def ids():
    counter = itertools.count(1)
    return lambda: f"id-{next(counter)}"


@pytest.fixture
def state() -> PaytureState:
    s = PaytureState(TENANT)
    s.register("u", "p", now=NOW)
    return s


def init(state, new_id, session_type="Add", **data):
    return state.init(
        {"SessionType": session_type, "VWUserLgn": "u", "VWUserPsw": "p", **data},
        now=NOW,
        new_id=new_id,
        terminal="T",
        lifetime_minutes=60,
        attempts=5,
    )


# -- wire ----------------------------------------------------------------------------------------


URL = "https://payture.com/result?orderid={orderid}&result={success}"


@pytest.mark.parametrize(
    "raw",
    [
        f"VWUserLgn=a@b.ru;Url={URL};Amount=100;",
        f"Amount=100;Url={URL};VWUserLgn=a@b.ru",
        ";".join(f"{k}={quote_plus(v)}" for k, v in [("VWUserLgn", "a@b.ru"), ("Url", URL), ("Amount", "100")]),
        quote(f"VWUserLgn=a@b.ru;Url={URL};Amount=100", safe=""),
    ],
    ids=["plain", "reordered", "per_value", "double"],
)
def test_decode_data_encodings(raw):
    assert wire.decode_data(raw) == {"VWUserLgn": "a@b.ru", "Url": URL, "Amount": "100"}


def test_decode_data_none_empty_and_edge_segments():
    assert wire.decode_data(";;A=1;B=None;C=;=x;D=a=b;") == {"A": "1", "C": "", "D": "a=b"}


def test_decode_data_plus_kept_in_plain_values():
    assert wire.decode_data("PhoneNumber=+79265351604;CardHolder=ivan ivanov") == {
        "PhoneNumber": "+79265351604",
        "CardHolder": "ivan ivanov",
    }


def test_decode_data_per_value_spaces():
    assert wire.decode_data("CardHolder=ivan+ivanov;Email=a%40b.ru") == {"CardHolder": "ivan+ivanov", "Email": "a@b.ru"}
    assert wire.decode_data("CardHolder=ivan%20ivanov+jr")["CardHolder"] == "ivan ivanov jr"


def test_render_escapes_and_children():
    element = wire.element("GetList", {"Success": "True", "VWUserLgn": 'a"<&>'}, [wire.element("Item", {"X": 1})])
    assert wire.render(element) == '<GetList Success="True" VWUserLgn="a&quot;&lt;&amp;&gt;"><Item X="1" /></GetList>'


def test_error_attrs_layouts():
    assert error_attrs("Init", {}, "X") == {"Success": "False", "ErrCode": "X"}  # (recorded) no SessionId
    assert error_attrs("Init", {}, "X", init_session_id=True) == {"Success": "False", "ErrCode": "X", "SessionId": ""}
    assert error_attrs("Charge", {"OrderId": "o"}, "X") == {"Success": "False", "OrderId": "o", "ErrCode": "X"}
    assert list(error_attrs("PayStatus", {"DATA": {"OrderId": "o"}}, "X")) == [
        "Success",
        "VWUserLgn",
        "OrderId",
        "Forwarded",
        "ErrCode",
    ]


def test_command_from_path():
    assert wire.command_from_path("/vwapi/Init") == "Init"
    assert wire.command_from_path("/vwapi/Add/Submit") == "Add"


# -- customers and sessions ----------------------------------------------------------------------


def test_register_duplicate(state):
    with pytest.raises(PaytureError) as caught:
        state.register("u", "other", now=NOW)
    assert caught.value.code == "DUPLICATE_USER" and state.customers["u"].password == "p"


def test_check_codes(state):
    with pytest.raises(PaytureError, match="USER_NOT_FOUND"):
        state.check("nobody", "p", now=NOW)
    with pytest.raises(PaytureError, match="WRONG_USER_PARAMS"):
        state.check("u", "wrong", now=NOW)


def test_delete_needs_merchant_password(state):
    with pytest.raises(PaytureError, match="ACCESS_DENIED"):
        state.delete("u", "p", now=NOW)
    state.delete("u", "pw", now=NOW)
    assert state.customers == {}


def test_init_lifetime_and_duplicate_order(state):
    new_id = ids()
    session = init(state, new_id, "Block", OrderId="o1", Amount="100")
    assert session.expires_at == NOW + 3600 and state.orders["o1"].status == "New"
    with pytest.raises(PaytureError, match="DUPLICATE_ORDER_ID"):
        init(state, new_id, "Pay", OrderId="o1", Amount="100")


def test_init_never_repeats_a_session_id(state):
    repeating = iter(["same", "same", "other"])
    first = init(state, lambda: next(repeating))
    second = init(state, lambda: next(repeating))
    assert (first.session_id, second.session_id) == ("same", "other")


def test_init_auto_register(state):
    session = state.init(
        {"SessionType": "Add", "VWUserLgn": "new", "VWUserPsw": "x"},
        now=NOW,
        new_id=ids(),
        terminal="T",
        lifetime_minutes=60,
        attempts=5,
        auto_register=True,
    )
    assert session.login == "new" and "new" in state.customers


def test_open_session_expired(state):
    session = init(state, ids())
    with pytest.raises(PaytureError, match="ORDER_TIME_OUT"):
        state.open_session(session.session_id, now=NOW + 3600)


# -- cards ---------------------------------------------------------------------------------------


def test_submit_card_stores_only_masked_pan(state):
    new_id = ids()
    session = init(state, new_id)
    result = state.submit_card(session.session_id, CARD, now=NOW, new_id=new_id)
    assert result.success and result.card.card_name == "401111xxxxxx1112"
    assert "4011111111111112" not in repr(to_data(state))
    assert all(
        "123" not in (str(v), str(v)[-3:]) for c in state.customers["u"].cards.values() for v in vars(c).values()
    )


def test_submit_card_forced_outcome(state):
    new_id = ids()
    session = init(state, new_id)
    result = state.submit_card(session.session_id, CARD, now=NOW, new_id=new_id, outcome="decline")
    assert not result.success and result.err_code == "ISSUER_FAIL" and session.attempts_left == 4


def test_card_expiry_end_of_month():
    assert card_expiry(2, 2028) == datetime(2028, 2, 29, 23, 59, 59, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("card", "code"),
    [
        (CardInput("4011111111111112", "12", "25", "Test", "123"), "WRONG_CARD_INFO"),  # December 2025 is over
        (CardInput("4011111111111112", "2", "2026", "Test", "123"), None),
        (CardInput("411111111111", "2", "2026", "Test", "123"), "WRONG_PAN"),
        (CardInput("4011111111111112", "2", "26", "", "123"), "WRONG_CARDHOLDER_NAME"),
        (CardInput("4011111111111112", "2", "26", "Xy", "123"), "WRONG_CARDHOLDER_NAME"),  # (doc) 3+ Latin letters
        (CardInput("4011111111111112", "2", "26", "Иван", "123"), "WRONG_CARDHOLDER_NAME"),
        (CardInput("4011111111111112", "2", "26", "Test", "12"), "WRONG_CARD_INFO"),
        (CardInput("7600000000000006", "2", "26", "Test", "123"), None),  # documented, though not Luhn-valid
    ],
)
def test_validate_card(card, code):
    assert validate_card(card, NOW) == code


def test_get_list_order_limit_and_expiry(state):
    new_id = ids()
    for index in range(22):
        session = init(state, new_id)
        pan = f"40000000000{index:04d}"
        pan += str(next(d for d in range(10) if luhn_valid(pan + str(d))))  # 22 different cards
        state.submit_card(session.session_id, CardInput(pan, "12", "30", "IVAN", "123"), now=NOW + index, new_id=new_id)
    cards = state.get_list("u", "p", now=NOW + 100)
    assert len(cards) == 20 and cards[0].added_at == NOW + 21  # most recent first
    assert state.get_list("u", "p", now=card_expiry(12, 2030) + 1) == []


def test_get_list_failure_is_one_shot(state):
    state.scenario_fail_get_list(now=NOW, err_code="PROCESSING_ERROR")
    with pytest.raises(PaytureError, match="PROCESSING_ERROR"):
        state.get_list("u", "p", now=NOW)
    assert state.get_list("u", "p", now=NOW) == []


# -- orders --------------------------------------------------------------------------------------


def paid(state, session_type="Block", amount="1000"):
    data = {"VWUserLgn": "u", "VWUserPsw": "p", "CardId": "FreePay", "OrderId": "o", "Amount": amount}
    return state.pay({**data, "SessionType": session_type}, now=NOW, new_id=ids(), card=CARD)


def test_charge_unblock_refund_amounts(state):
    order = paid(state)
    with pytest.raises(PaytureError, match="AMOUNT_ERROR"):
        state.charge("o", 1001, "pw", now=NOW)
    assert state.charge("o", 600, "pw", now=NOW).status == "Charged"
    assert state.refund("o", 100, "pw", now=NOW).current_amount == 500
    assert state.refund("o", 100, "pw", now=NOW).status == "Charged"  # (doc) a partial refund stays Charged
    assert state.refund("o", None, "pw", now=NOW).status == "Refunded"  # the rest
    with pytest.raises(PaytureError, match="ILLEGAL_ORDER_STATE"):
        state.refund("o", 1, "pw", now=NOW)
    assert order.refunded == 600


def test_charge_without_amount_takes_the_hold_and_unblock_releases_all(state):
    paid(state)
    assert state.charge("o", None, "pw", now=NOW).charged == 1000
    state.pay(
        {
            "VWUserLgn": "u",
            "VWUserPsw": "p",
            "CardId": "FreePay",
            "OrderId": "o2",
            "Amount": "700",
            "SessionType": "Block",
        },
        now=NOW,
        new_id=ids(),
        card=CARD,
    )
    order = state.unblock("o2", "pw", now=NOW)
    assert (order.status, order.current_amount, order.unblocked) == ("Voided", 0, 700)
    with pytest.raises(PaytureError, match="ILLEGAL_ORDER_STATE"):
        state.unblock("o2", "pw", now=NOW)


@pytest.mark.parametrize(
    ("pan", "op", "pending"),
    [
        ("4100401111100062", "block", "PendingBlock"),
        ("4100401111100328", "charge", "PendingCharge"),
        ("4100401111100724", "unblock", "PendingUnblock"),
        ("4100401111103025", "refund", "PendingRefund"),
    ],
)
def test_time_out_cards_stay_pending_on_the_virtual_clock(state, pan, op, pending):
    card = CardInput(pan, "12", "30", "IVAN IVANOV", "123")
    data = {"VWUserLgn": "u", "VWUserPsw": "p", "CardId": "FreePay", "OrderId": "o", "Amount": "1000"}
    order = state.pay({**data, "SessionType": "Block"}, now=NOW, new_id=ids(), card=card, timeout_seconds=40)
    if op in ("charge", "refund"):
        state.charge("o", None, "pw", now=NOW, timeout_seconds=40)
    if op == "unblock":
        state.unblock("o", "pw", now=NOW, timeout_seconds=40)
    if op == "refund":
        state.refund("o", None, "pw", now=NOW, timeout_seconds=40)
    final = {"block": "Authorized", "charge": "Charged", "unblock": "Voided", "refund": "Refunded"}[op]
    assert (order.status_at(NOW + 39), order.status_at(NOW + 40)) == (pending, final)


@pytest.mark.parametrize("pan", ["4111111111100221", "4111111111100627", "4111111111102029"])
def test_processing_error_cards_fail_their_operation(state, pan):
    card = CardInput(pan, "12", "30", "IVAN IVANOV", "123")
    data = {"VWUserLgn": "u", "VWUserPsw": "p", "CardId": "FreePay", "OrderId": "o", "Amount": "1000"}
    order = state.pay({**data, "SessionType": "Block"}, now=NOW, new_id=ids(), card=card)
    if pan.endswith("0627"):
        state.unblock("o", "pw", now=NOW)
    else:
        state.charge("o", None, "pw", now=NOW)
        if pan.endswith("2029"):
            state.refund("o", None, "pw", now=NOW)
    assert (order.status, order.last_error) == ("Error", "PROCESSING_ERROR")


def test_same_card_twice_is_a_duplicate_by_fingerprint(state):
    new_id = ids()
    first = state.add_card({"VWUserLgn": "u", "VWUserPsw": "p"}, CARD, now=NOW, new_id=new_id)
    again = state.add_card({"VWUserLgn": "u", "VWUserPsw": "p"}, CARD, now=NOW, new_id=new_id)
    assert first.card is not None and again.err_code == "DUPLICATE_CARD"
    assert len(first.card.fingerprint) == 64 and CARD.pan not in repr(to_data(state))
    state.remove("u", "p", first.card.card_id, now=NOW)  # a removed card may be added again
    assert state.add_card({"VWUserLgn": "u", "VWUserPsw": "p"}, CARD, now=NOW, new_id=new_id).card is not None


def test_one_step_pay_is_charged(state):
    assert paid(state, "Pay").status == "Charged"


def test_order_time_out_only_for_unpaid_sessions(state):
    init(state, ids(), "Pay", OrderId="o2", Amount="10")
    with pytest.raises(PaytureError, match="ORDER_TIME_OUT"):
        state.order("o2", now=NOW + 3600)
    with pytest.raises(PaytureError, match="ORDER_NOT_FOUND"):
        state.order("nope", now=NOW)
