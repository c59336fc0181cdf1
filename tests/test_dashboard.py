"""The dashboard (/__admin/ui) in headless Chromium, against the suite's live server (its admin API locked):
log in with the token, watch a provider flow in the journal, advance clocks, run scenarios, redeliver."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from emulator import testing as plugin
from emulator.clients._http import BadRequest, ServerError
from emulator.clients.izipay import IzipayClient
from emulator.clients.payelata import CardGateClient, PayelataClient
from emulator.testing import CallbackReceiver
from tests.conftest import LIVE_ADMIN_TOKEN, retry_on_clock
from tests.providers.payelata.support import ACCOUNT, SUCCESS, TEST_KEY, card

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (test extra)")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

MERCHANT, PUBLIC_KEY = "4007701", "VErEthUtraQUxas57wUMuquprADrAHAb"


@pytest.fixture(scope="module")
def browser(payemu_browser: Any) -> Any:
    payemu_browser.set_window_size(1400, 900)
    return payemu_browser


def until(browser: Any, condition: Any, what: str) -> Any:
    """Wait (bounded) until `condition(browser)` is truthy: the page polls the admin API every second."""
    wait = WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,))
    return wait.until(condition, f"the dashboard never showed {what}")


def text_of(browser: Any, selector: str) -> str:
    """The text of every element matching `selector`, read in one step (the page re-renders as it polls)."""
    script = "return [...document.querySelectorAll(arguments[0])].map((e) => e.innerText).join(' ')"
    return browser.execute_script(script, selector)


def click(browser: Any, selector: str) -> None:
    """Click the first element matching `selector`, again if a re-render replaced it meanwhile."""
    until(browser, lambda b: b.find_element(By.CSS_SELECTOR, selector).click() or True, f"{selector} to click")


def dashboard(browser: Any, server: Any, tab: str) -> Any:
    """The dashboard, logged in, showing `tab` (loaded once per module: later tests only switch tabs)."""
    if not browser.current_url.startswith(server.url + "/__admin/ui"):
        browser.get(server.url + "/__admin/ui")
        until(browser, lambda b: b.find_element(By.ID, "login").is_displayed(), "the login form")
        browser.find_element(By.ID, "token").send_keys(LIVE_ADMIN_TOKEN + "\n")
        until(browser, lambda b: b.find_element(By.ID, "app").is_displayed(), "the dashboard after login")
    browser.find_element(By.CSS_SELECTOR, f'#tabs a[data-tab="{tab}"]').click()
    until(browser, lambda b: b.find_element(By.ID, f"tab-{tab}").is_displayed(), f"the {tab} tab")
    return browser


def izipay_flow(server: Any, admin: Any) -> None:
    """A token, a search, one the platform fails (scenario rule 1), one that breaks the contract."""
    client = IzipayClient(server.url, MERCHANT, PUBLIC_KEY)
    client.generate_token("R202211101518", "15.00")
    client.search_installments("545545")
    admin.activate("izipay/platform-failure")
    with pytest.raises(ServerError):
        client.search_installments("545545")
    admin.deactivate("izipay")
    with pytest.raises(BadRequest):
        client.search_installments("ABC")


def payelata_sale(server: Any, receiver: CallbackReceiver) -> None:
    api = PayelataClient(server.url, ACCOUNT, TEST_KEY)
    invoice = api.create_payment_invoice(
        {"reference_id": "DASH-1", "amount": 25, "currency": "USD", "service": "payment_card_usd_hpp"},
        callback_url=receiver.url,
    )
    CardGateClient.for_invoice(invoice).sale(CardGateClient.token(invoice), card(SUCCESS))


def test_login_with_the_admin_token(browser: Any, payemu_server: Any) -> None:
    config = payemu_server.runtime.config
    browser.get(payemu_server.url + "/__admin/ui")
    browser.execute_script("sessionStorage.clear()")
    config.admin_token = None  # an unlocked admin API: no login form
    try:
        browser.refresh()
        until(browser, lambda b: b.find_element(By.ID, "app").is_displayed(), "the dashboard without a token")
        assert not browser.find_element(By.ID, "login").is_displayed()
    finally:
        config.admin_token = LIVE_ADMIN_TOKEN
    browser.refresh()
    until(browser, lambda b: b.find_element(By.ID, "login").is_displayed(), "the login form")
    assert not browser.find_element(By.ID, "app").is_displayed()
    browser.find_element(By.ID, "token").send_keys("not-the-token\n")
    until(browser, lambda b: "refused" in b.find_element(By.ID, "login-error").text, "the refusal")
    browser.find_element(By.ID, "token").send_keys(LIVE_ADMIN_TOKEN)
    browser.find_element(By.ID, "login-submit").click()
    until(browser, lambda b: b.find_element(By.ID, "app").is_displayed(), "the dashboard after login")
    until(browser, lambda b: "strict" in b.find_element(By.ID, "version").text, "the server's version")
    assert browser.execute_script("return sessionStorage.getItem('payemu-admin-token')") == LIVE_ADMIN_TOKEN


def test_journal_filters_and_an_entry_shows_its_rule_and_violations(
    browser: Any, payemu_server: Any, payemu_admin: Any, payemu_receiver: CallbackReceiver
) -> None:
    izipay_flow(payemu_server, payemu_admin)
    payelata_sale(payemu_server, payemu_receiver)
    page = dashboard(browser, payemu_server, "journal")
    rows = "#journal tbody tr[data-id]"
    until(page, lambda b: "payelata" in text_of(b, rows), "the Payelata calls")

    Select(page.find_element(By.ID, "filter-provider")).select_by_value("izipay")
    Select(page.find_element(By.ID, "filter-status")).select_by_value("5")
    until(page, lambda b: set(text_of(b, f"{rows} td:nth-child(7)").split()) == {"500"}, "only the 500s")
    assert set(text_of(page, f"{rows} td:nth-child(3)").split()) == {"izipay"}
    click(page, rows)
    rule = until(page, lambda b: "platform_error" in text_of(b, "#entry-rule") and text_of(b, "#entry-rule"), "a rule")
    assert "izipay/platform-failure, rule 1" in rule and "search_installments" in rule
    assert "The API Public service threw an error" in text_of(page, "#entry-response-body")

    Select(page.find_element(By.ID, "filter-status")).select_by_value("4")
    page.find_element(By.ID, "filter-operation").send_keys("search_installments")
    until(page, lambda b: text_of(b, f"{rows} td:nth-child(7)") == "400", "only the 400")
    click(page, rows)
    until(page, lambda b: "$.body.bin" in text_of(b, "#entry-violations"), "the violation")
    assert "pattern" in text_of(page, "#entry-violations")
    assert "no rule matched" in text_of(page, "#entry-rule")
    assert '"bin": "ABC"' in text_of(page, "#entry-request-body")
    page.find_element(By.ID, "filter-clear").click()


def test_state_as_tables_and_the_clock_per_server_and_tenant(
    browser: Any, payemu_server: Any, payemu_receiver: CallbackReceiver
) -> None:
    payelata_sale(payemu_server, payemu_receiver)
    page = dashboard(browser, payemu_server, "state")
    invoices = f'.tenant-state[data-provider="payelata"][data-tenant="{ACCOUNT}"] table.records'
    until(page, lambda b: "DASH-1" in text_of(b, invoices), "the invoice in a table")

    page = dashboard(browser, payemu_server, "clock")
    Select(page.find_element(By.ID, "advance-target")).select_by_value(f"izipay/{MERCHANT}")
    seconds = page.find_element(By.ID, "advance-seconds")
    seconds.clear()
    seconds.send_keys("901")
    page.find_element(By.ID, "advance").click()
    tenant_row = f'#clock-tenants tr[data-key="izipay/{MERCHANT}"]'
    until(page, lambda b: "901 s" in text_of(b, tenant_row), "the tenant's own offset")
    assert payemu_server.runtime.clock.offset == 0
    Select(page.find_element(By.ID, "advance-target")).select_by_value("")
    page.find_element(By.CSS_SELECTOR, '#advance-form [data-seconds="3600"]').click()
    until(page, lambda b: "3600 s" in b.find_element(By.ID, "clock-offset").text, "the server's offset")
    assert payemu_server.runtime.clock.offset == pytest.approx(3600)


def test_scenarios_activate_and_deactivate(browser: Any, payemu_server: Any) -> None:
    page = dashboard(browser, payemu_server, "scenarios")
    Select(page.find_element(By.ID, "scenarios-provider")).select_by_value("izipay")
    row = '#scenarios tr[data-name="izipay/platform-failure"]'
    until(page, lambda b: "izipay/" in text_of(b, "#scenarios") and "zai/" not in text_of(b, "#scenarios"), "Izipay's")
    Select(page.find_element(By.CSS_SELECTOR, f"{row} .bind-tenant")).select_by_value(MERCHANT)
    click(page, f"{row} .activate")
    bound = f'#scenarios-active tr[data-tenant="{MERCHANT}"]'
    until(page, lambda b: "izipay/platform-failure" in text_of(b, bound), "the tenant's scenario")
    assert payemu_server.runtime.scenarios.active()["tenants"] == [
        {"provider": "izipay", "tenant": MERCHANT, "name": "izipay/platform-failure"}
    ]
    click(page, f"{bound} .deactivate")
    until(page, lambda b: not b.find_elements(By.CSS_SELECTOR, bound), "the scenario gone")
    assert payemu_server.runtime.scenarios.active() == {"servers": {}, "tenants": []}


def test_redeliver_a_failed_callback(
    browser: Any, payemu_server: Any, payemu_admin: Any, payemu_receiver: CallbackReceiver
) -> None:
    payemu_admin._call(
        "PUT",
        f"/tenants/payelata/{ACCOUNT}",
        # unbatched (Payelata batches close changes by default): two callbacks, two attempts each
        json={"options": {"callback_max_attempts": 2, "callback_retry_scale": 1, "callback_batching": False}},
    )
    payemu_receiver.statuses.extend([500] * 4)  # two callbacks, two attempts each
    payelata_sale(payemu_server, payemu_receiver)
    runtime = payemu_server.runtime
    payemu_receiver.wait_for(2)
    assert runtime.callbacks.wait_settled(5)
    page = dashboard(browser, payemu_server, "callbacks")
    first = min(runtime.callbacks.list(), key=lambda d: int(d.id.removeprefix("cb_"))).id
    row = f'#callbacks tr[data-id="{first}"]'
    until(page, lambda b: "in " in text_of(b, f"{row} td.next"), "when the retry is due")
    assert "500" in text_of(page, f"{row} ol.attempts")

    retry_on_clock(runtime, 60)  # the one retry, a minute later on the virtual clock: refused too
    until(page, lambda b: b.find_elements(By.CSS_SELECTOR, f'{row}[data-status="failed"]'), "the failed callback")
    payemu_receiver.clear()  # the merchant is back: it answers 200
    click(page, f"{row} .redeliver")
    delivered = f'#callbacks tr[data-id="{first}"][data-status="delivered"]'
    until(page, lambda b: b.find_elements(By.CSS_SELECTOR, delivered), "the redelivered callback")
    assert "200" in text_of(page, f"{delivered} ol.attempts")
    assert len(payemu_receiver.wait_for(1)) == 1


class FakeDriver:
    page_source = "<html><body>the page</body></html>"

    def save_screenshot(self, path: str) -> bool:
        Path(path).write_bytes(b"PNG")
        return True


def test_a_failing_browser_test_leaves_a_screenshot_and_names_it(tmp_path: Path, monkeypatch: Any) -> None:
    """The plugin's report hook (driven by hand): a failed call of a browser test saves the page where
    PAYEMU_ARTIFACTS says and names it in the report; a passing one saves nothing."""
    monkeypatch.setenv("PAYEMU_ARTIFACTS", str(tmp_path / "artifacts"))
    item = SimpleNamespace(funcargs={"payemu_browser": FakeDriver()}, config=None, nodeid="tests/x.py::test_y[a b]")

    def report_of(failed: bool) -> Any:
        report = SimpleNamespace(failed=failed, when="call", sections=[])
        hook = plugin.pytest_runtest_makereport(item, None)
        next(hook)
        with pytest.raises(StopIteration):
            hook.send(SimpleNamespace(get_result=lambda: report))
        return report

    assert report_of(False).sections == [] and not (tmp_path / "artifacts").exists()
    [(title, text)] = report_of(True).sections
    screenshot = tmp_path / "artifacts" / "tests_x.py_test_y_a_b.png"
    assert title == "payemu browser" and f"screenshot of the failing page: {screenshot}" in text
    assert screenshot.read_bytes() == b"PNG"
    assert screenshot.with_suffix(".html").read_text() == FakeDriver.page_source
