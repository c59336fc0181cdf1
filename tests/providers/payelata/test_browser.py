"""The hosted payment page and the 3-DS page in a real headless Chromium (selenium + Debian's chromedriver)."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.clients.payelata import CardGateClient, PayelataClient, verify_callback
from emulator.testing import CallbackReceiver
from tests.providers.payelata.support import ACCOUNT, FAIL, SECRET_TEST, SUCCESS, SUCCESS_3DS, TEST_KEY

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (test extra)")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def browser(payemu_browser: Any) -> Any:
    return payemu_browser


def fill_and_pay(driver: Any, pan: str, month: str, year: str) -> None:
    for name, value in (("card_number", pan), ("card_holder", "JOHN DOE"), ("exp_month", month), ("exp_year", year)):
        driver.find_element(By.NAME, name).send_keys(value)
    driver.find_element(By.NAME, "cvv").send_keys("123")
    driver.find_element(By.ID, "pay").click()


def status_text(driver: Any) -> str:
    WebDriverWait(driver, 10).until(expected_conditions.presence_of_element_located((By.ID, "status")))
    return driver.find_element(By.ID, "status").text


def test_hosted_payment_page_tokenize_then_charge_by_token(
    browser: Any, payemu_server: Any, payemu_receiver: CallbackReceiver
) -> None:
    api = PayelataClient(payemu_server.url, ACCOUNT, TEST_KEY)
    invoice = api.create_payment_invoice(
        {
            "reference_id": "BROWSER-1",
            "amount": 25,
            "currency": "USD",
            "service": "payment_card_usd_hpp",
            "customer": {"reference_id": "browser-customer"},
            "gateway_options": {"cardgate": {"tokenize": True}},
        },
        callback_url=payemu_receiver.url,
    )
    browser.get(invoice["attributes"]["flow_data"]["action"])
    assert "25 USD" in browser.find_element(By.ID, "amount").text
    fill_and_pay(browser, SUCCESS, "12", "32")
    assert status_text(browser) == "processed"

    assert payemu_server.runtime.callbacks.wait_idle(5)
    final = next(b for b in payemu_receiver.bodies() if b["data"]["attributes"]["status"] == "processed")
    assert all(verify_callback(i.body, i.headers["X-Signature"], SECRET_TEST) for i in payemu_receiver.received)
    token = final["data"]["attributes"]["payload"]["token"]
    assert final["data"]["attributes"]["payload"]["payment_card"]["mask"] == "551928******0000"
    assert api.get_payment_invoice(invoice["id"])["attributes"]["status"] == "processed"

    second = api.create_payment_invoice(
        {
            "reference_id": "BROWSER-2",
            "amount": 5,
            "currency": "USD",
            "service": "payment_card_usd_hpp",
            "token": token,
            "customer": {"reference_id": "browser-customer"},
            "gateway_options": {"cardgate": {"instant": True}},
        }
    )
    sale = CardGateClient.for_invoice(second).sale(CardGateClient.token(second))
    assert sale["attributes"]["status"] == "processed"
    assert api.get_payment_invoice(second["id"])["attributes"]["payload"]["token"] == token


def test_hosted_payment_page_three_ds_in_the_browser(browser: Any, payemu_server: Any) -> None:
    api = PayelataClient(payemu_server.url, ACCOUNT, TEST_KEY)
    invoice = api.create_payment_invoice(
        {"reference_id": "BROWSER-3DS", "amount": 7, "currency": "EUR", "service": "payment_card_eur_hpp"}
    )
    browser.get(invoice["attributes"]["flow_data"]["action"])
    fill_and_pay(browser, SUCCESS_3DS, "12", "32")  # (doc) the enrolled card: a challenge, then processed
    WebDriverWait(browser, 10).until(expected_conditions.presence_of_element_located((By.ID, "authenticate")))
    browser.find_element(By.ID, "authenticate").click()
    assert status_text(browser) == "processed"
    assert api.get_payment_invoice(invoice["id"])["attributes"]["status"] == "processed"


def wait_for(driver: Any, element_id: str) -> Any:
    return WebDriverWait(driver, 10).until(expected_conditions.presence_of_element_located((By.ID, element_id)))


def test_hosted_payment_page_retry_after_declines_then_redirect_home(
    browser: Any, payemu_server: Any, payemu_admin: Any
) -> None:
    """A declined card shows the payment error on the form (a counted attempt); the payer retries with a good card
    and the status page sends them back to the shop with the operation context. (The failed 3-DS challenge as a
    counted attempt: scenarios/payelata/replay-3ds-failed.yaml.)"""
    payemu_admin._call("PUT", f"/tenants/payelata/{ACCOUNT}", json={"options": {"status_page_redirect_delay": 0}})
    api = PayelataClient(payemu_server.url, ACCOUNT, TEST_KEY)
    shop = payemu_server.url + "/__admin/health"  # any page the browser can land on: the shop's return URL
    invoice = api.create_payment_invoice(
        {"reference_id": "BROWSER-R", "amount": 12, "currency": "USD", "service": "payment_card_usd_hpp",
         "return_urls": {"success": shop}},
    )  # fmt: skip
    browser.get(invoice["attributes"]["flow_data"]["action"])
    assert wait_for(browser, "test-cards").is_displayed()
    fill_and_pay(browser, FAIL, "03", "27")
    assert wait_for(browser, "error").text == "Invalid CVV code"
    assert wait_for(browser, "hint").text.startswith("Please double check the CVV code")
    fill_and_pay(browser, SUCCESS, "12", "32")
    WebDriverWait(browser, 10).until(lambda driver: driver.current_url.startswith(shop))
    assert f"id={invoice['id']}" in browser.current_url and "status=processed" in browser.current_url
    got = api.get_payment_invoice(invoice["id"])["attributes"]
    assert (got["status"], got["resolution"]) == ("processed", "ok")
