"""A buyer applies and the operator issues her card, on two phones from fresh browsers:
a restaurant signs up with a code read from the development SMS outbox, finds the market and
applies (a mistyped licence number is caught on its field first); the market's operator
issues a card from the stock; the restaurant's market account page then shows the card.
"""

import pytest
from playwright.sync_api import expect

from accounts.choices import Role
from accounts.models import Consent, User
from accounts.privacy import POLICY_VERSION
from marketplace.markets import services as markets
from marketplace.models import Trader
from tests.e2e.conftest import fits_the_screen

pytestmark = pytest.mark.django_db(transaction=True)

RESTAURANT_PHONE = "13912340077"
CARD = "6288000000000042"


@pytest.fixture
def market_desk(db):
    """北京新发地 with its operator (who agreed to the privacy policy long ago)."""
    from tests.accounts.factories import UserFactory

    market = markets.create_market(code="xinfadi", name="北京新发地", city="北京")
    markets.create_market(code="jiangnan", name="广州江南", city="广州")
    operator = UserFactory(role=Role.MARKET_OPERATOR, display_name="陈静")
    Consent.objects.get_or_create(user=operator, policy_version=POLICY_VERSION)
    markets.add_staff(market=market, user=operator)
    return {"market": market, "operator": operator}


def test_a_buyer_applies_and_the_operator_issues_her_card(
    phone, live_server, output_dir, sms_outbox, market_desk
):
    base = live_server.url

    # A restaurant signs up as a buyer, with the code the SMS brings.
    restaurant = phone(locale="en-US")
    restaurant.goto(f"{base}/sign-up/?next=/market/cards/", timeout=60_000)
    restaurant.check("input[name=account_type][value=buyer]")
    restaurant.fill("#id_phone", RESTAURANT_PHONE)
    restaurant.click("[data-testid=send-code]")
    expect(restaurant.locator("[data-testid=code-sent]")).to_be_visible()
    restaurant.fill("#id_code", sms_outbox.last_code(RESTAURANT_PHONE))
    restaurant.fill("#id_display_name", "老街坊饺子馆")
    restaurant.fill("#id_password", "dumplings-2026")
    restaurant.check("#id_agree")
    restaurant.screenshot(path=output_dir / "1-restaurant-signs-up.png", full_page=True)
    restaurant.click("[data-testid=sign-up]")
    restaurant.wait_for_url(f"{base}/market/cards/")

    # She finds the markets that take applications and applies to Xinfadi.
    xinfadi = restaurant.locator("[data-market=xinfadi]")
    expect(xinfadi).to_contain_text("北京新发地")
    expect(restaurant.locator("[data-market=jiangnan]")).to_be_visible()
    assert fits_the_screen(restaurant)
    restaurant.screenshot(path=output_dir / "2-markets.png", full_page=True)
    xinfadi.locator("[data-testid=apply]").click()
    expect(restaurant.locator("[data-testid=market-name]")).to_have_text("北京新发地")
    # Her name and number are there already; the contact is whom the market calls.
    assert restaurant.input_value("#id_contact_phone") == f"+86{RESTAURANT_PHONE}"
    restaurant.fill("#id_business_name", "北京市丰台区老街坊饺子馆")
    restaurant.fill("#id_licence_number", "92110106MA01K3QB5A")  # last character mistyped
    restaurant.fill("#id_contact_name", "赵红梅")
    restaurant.click("[data-testid=card-application-form] button[type=submit]")
    error = restaurant.locator("#id_licence_number ~ .errorlist")
    expect(error).to_contain_text("check character is wrong")
    assert fits_the_screen(restaurant)
    restaurant.screenshot(path=output_dir / "3-licence-number-mistyped.png", full_page=True)
    restaurant.fill("#id_licence_number", "92110106MA01K3QB5Q")
    restaurant.click("[data-testid=card-application-form] button[type=submit]")
    restaurant.wait_for_url(f"{base}/market/cards/")
    expect(restaurant.locator("[data-market=xinfadi] [data-testid=pending]")).to_be_visible()
    expect(restaurant.locator("[data-testid=my-applications] [data-testid=status]")).to_have_text(
        "Waiting for the market"
    )
    restaurant.screenshot(path=output_dir / "4-application-waiting.png", full_page=True)

    # The operator, on her own phone, finds it in her menu and issues a card from the stock.
    desk = phone(locale="en-US", user=market_desk["operator"])
    desk.goto(f"{base}/workspace/")
    desk.click("nav.mainnav >> text=Card applications")
    desk.wait_for_url(f"{base}/market/card-applications/")
    queue = desk.locator("[data-testid=card-queue]")
    expect(queue).to_contain_text("北京市丰台区老街坊饺子馆")
    desk.screenshot(path=output_dir / "5-operator-queue.png", full_page=True)
    queue.locator("[data-testid=open]").first.click()
    expect(desk.locator("[data-testid=business-name]")).to_have_text("北京市丰台区老街坊饺子馆")
    desk.fill("#id_card_number", CARD)
    assert fits_the_screen(desk)
    desk.screenshot(path=output_dir / "6-operator-issues.png", full_page=True)
    desk.click("[data-testid=issue-form] button[type=submit]")
    desk.wait_for_url(f"{base}/market/card-applications/")
    expect(desk.locator(".message")).to_contain_text(f"Card {CARD} is issued")
    desk.screenshot(path=output_dir / "7-operator-issued.png", full_page=True)

    # The restaurant is told by SMS, and her market account page shows the card.
    assert any("0042" in text for text in sms_outbox.messages_to(RESTAURANT_PHONE))
    restaurant.goto(f"{base}/market/me/")
    card = restaurant.locator(".trader-card").first
    expect(card).to_contain_text("card ending 0042")
    expect(card.locator("[data-testid=balance]")).to_have_text("¥0.00")
    expect(card.locator("[data-testid=trades]")).to_contain_text("No trades today yet.")
    assert fits_the_screen(restaurant)
    restaurant.screenshot(path=output_dir / "8-market-account.png", full_page=True)
    user = User.objects.get(phone=f"+86{RESTAURANT_PHONE}")
    assert Trader.objects.get(card_number=CARD).user == user
