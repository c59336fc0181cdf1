"""The hosted Add page in a real headless Chromium (Debian chromium + chromium-driver, via selenium)."""

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


def test_add_page_in_browser(payemu_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    client = PaytureClient(payemu_server.url, "DemoMerchantAdd", "123")
    client.register("browser@example.ru", "pw")
    # the shop's return page: any page of the emulator will do; the redirect carries orderid and result
    shop = f"{payemu_server.url}/__admin/health?orderid={{orderid}}&result={{success}}"
    init = client.init("Add", "browser@example.ru", "pw", url=shop)
    browser.get(client.page_url(init["SessionId"]))
    assert browser.find_element(By.ID, "title").text == "Add a card"
    assert "4000000000000002" in browser.find_element(By.ID, "test-cards").text

    # a declined card first: the result page says so, then the 3-second redirect reports result=False
    fill(browser, CardNumber="4000 0000 0000 0002", EMonth="12", EYear="30", CardHolder="IVAN IVANOV", SecureCode="123")
    browser.find_element(By.ID, "submit").click()
    result = WebDriverWait(browser, 10).until(expected_conditions.presence_of_element_located((By.ID, "result")))
    assert result.get_attribute("data-success") == "False"
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("/__admin/health"))
    assert browser.current_url.endswith(f"orderid={init['SessionId']}&result=False")

    # the same session again (attempts remain), a good card, immediate redirect
    browser.get(client.page_url(init["SessionId"]) + "&payemu_redirect_delay=0")
    fill(browser, CardNumber="4111111111111111", EMonth="12", EYear="30", CardHolder="IVAN IVANOV", SecureCode="123")
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("result=True"))
    assert browser.current_url == f"{payemu_server.url}/__admin/health?orderid={init['SessionId']}&result=True"

    cards = client.get_list("browser@example.ru", "pw")
    assert [(c["CardName"], c["CardHolder"], c["Status"]) for c in cards.items] == [
        ("411111xxxxxx1111", "IVAN IVANOV", "IsActive")
    ]
