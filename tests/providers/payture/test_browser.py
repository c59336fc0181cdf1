"""The hosted Add (RU) and Pay (a saved card) pages in a real headless Chromium (selenium)."""

from __future__ import annotations

import pytest

from emulator.clients.payture import PaytureClient

pytest.importorskip("selenium.webdriver", reason="selenium is not installed (test extra)")


@pytest.fixture
def browser(payemu_browser):
    payemu_browser.delete_all_cookies()
    return payemu_browser


def fill(driver, **fields: str) -> None:
    from selenium.webdriver.common.by import By

    for name, value in fields.items():
        element = driver.find_element(By.ID, name)
        element.clear()
        element.send_keys(value)


def test_ru_add_page_in_browser(payemu_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    client = PaytureClient(payemu_server.url, "DemoMerchantAdd", "123")
    client.register("browser@example.ru", "pw")
    # the shop's return page: any page of the emulator will do; the redirect carries orderid and result
    shop = f"{payemu_server.url}/__admin/health?orderid={{orderid}}&result={{success}}"
    init = client.init("Add", "browser@example.ru", "pw", url=shop, language="RU", template_tag="Order")
    browser.get(client.page_url(init["SessionId"]))
    assert browser.find_element(By.ID, "title").text == "Привязка карты"
    page = browser.find_element(By.ID, "page")
    assert (page.get_attribute("data-language"), page.get_attribute("data-template")) == ("ru", "Order")
    assert "4111111111100072" in browser.find_element(By.ID, "test-cards").text

    # a declined card first: the result page says so, then the 3-second redirect reports result=False
    fill(browser, CardNumber="4111 1111 1110 0072", EMonth="12", EYear="30", CardHolder="IVAN IVANOV", SecureCode="123")
    browser.find_element(By.ID, "submit").click()
    result = WebDriverWait(browser, 10).until(expected_conditions.presence_of_element_located((By.ID, "result")))
    assert result.get_attribute("data-success") == "False"
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("/__admin/health"))
    assert browser.current_url.endswith(f"orderid={init['SessionId']}&result=False")

    # the same session again (attempts remain), a good card, immediate redirect
    browser.get(client.page_url(init["SessionId"]) + "&payemu_redirect_delay=0")
    fill(browser, CardNumber="4011111111111112", EMonth="12", EYear="30", CardHolder="IVAN IVANOV", SecureCode="123")
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("result=True"))
    assert browser.current_url == f"{payemu_server.url}/__admin/health?orderid={init['SessionId']}&result=True"

    cards = client.get_list("browser@example.ru", "pw")
    assert [(c["CardName"], c["CardHolder"], c["Status"]) for c in cards.items] == [
        ("401111xxxxxx1112", "IVAN IVANOV", "IsActive")
    ]


def test_pay_page_with_saved_card_in_browser(payemu_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    add = PaytureClient(payemu_server.url, "DemoMerchantAdd", "123")
    pay = PaytureClient(payemu_server.url, "DemoMerchantPay", "123")
    add.register("saved@example.ru", "pw")
    shop = f"{payemu_server.url}/__admin/health?orderid={{orderid}}&result={{success}}"
    # the first payment, in English, types a new card and asks to keep it
    first = pay.init("Pay", "saved@example.ru", "pw", order_id="browser-1", amount=5000, url=shop, language="EN")
    browser.get(pay.page_url(first["SessionId"], "Pay") + "&payemu_redirect_delay=0")
    assert browser.find_element(By.ID, "title").text == "Pay by card"
    assert not browser.find_elements(By.CLASS_NAME, "saved-card")
    fill(browser, CardNumber="5218851946955484", EMonth="12", EYear="30", CardHolder="IVAN IVANOV")
    browser.find_element(By.ID, "SaveCard").click()
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("result=True"))
    assert pay.pay_status("browser-1")["Status"] == "Charged"

    # the second payment offers that card: one click, no CVV, no 3-D Secure
    second = pay.init("Pay", "saved@example.ru", "pw", order_id="browser-2", amount=7000, url=shop, language="EN")
    browser.get(pay.page_url(second["SessionId"], "Pay") + "&payemu_redirect_delay=0")
    saved = browser.find_elements(By.CLASS_NAME, "saved-card")
    assert [element.text for element in saved] == ["521885xxxxxx5484 IVAN IVANOV"]
    card_id = saved[0].get_attribute("data-card-id")
    browser.find_element(By.CLASS_NAME, "pay-saved").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("orderid=browser-2&result=True"))
    status = pay.pay_status("browser-2")
    assert status["Status"] == "Charged" and status["CardId"] == card_id
    assert [c["CardName"] for c in add.get_list("saved@example.ru", "pw").items] == ["521885xxxxxx5484"]
