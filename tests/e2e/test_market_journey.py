"""A day at the wholesale market on three screens: the operator tops up a buyer's card and
records a trade at the counter (a 1024x768 screen beside the scale), the farmer who sold sees
on her phone what the market owes her, and the public price board shows the trade's price
once the day is closed (a single trade's price is nobody else's business before that).

No page here updates live: each shows what the database holds when it opens, so
pytest-django's live server (WSGI) serves the whole journey.
"""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.choices import Role
from marketplace.markets import end_of_day
from marketplace.markets import services as markets
from marketplace.models import CommissionRule, Trade
from settlement.selectors import balance_of
from tests.accounts.factories import PASSWORD, UserFactory
from tests.e2e.conftest import fits_the_screen

pytestmark = pytest.mark.django_db(transaction=True)

BUYER_CARD = "6200000000000017"
SELLER_CARD = "6201000000000029"
CABBAGE = "VEG-CHINESE-CABBAGE"  # 大白菜, from the shipped catalogue
COUNTER_SCREEN = {"width": 1024, "height": 768}


@pytest.fixture
def market_at_work(catalogue):
    """A market with its supervising operator, a 1 % / 2 % (at least ¥1) commission rule, a
    buyer with an empty card and a seller who is a farmer with a FreshChain account."""
    market = markets.create_market(code="xinfadi", name="北京新发地", city="北京")
    operator = UserFactory(role=Role.MARKET_OPERATOR, phone="+8613900000201", display_name="张收银")
    markets.add_staff(market=market, user=operator, is_supervisor=True)
    CommissionRule.objects.create(
        market=market, buyer_pct=Decimal("1"), seller_pct=Decimal("2"), minimum_fee=Decimal("1")
    )
    farmer = UserFactory(role=Role.FARMER, phone="+8613800000301", display_name="王秀英")
    seller = markets.register_trader(
        market=market, kind="seller", name="王秀英", card_number=SELLER_CARD, user=farmer
    )
    buyer = markets.register_trader(
        market=market,
        kind="buyer",
        name="李记餐饮",
        card_number=BUYER_CARD,
        user=UserFactory(role=Role.BUYER),
    )
    return {"operator": operator, "farmer": farmer, "seller": seller, "buyer": buyer}


def _sign_in(page, base: str, phone: str) -> None:
    page.goto(f"{base}/sign-in/")
    page.fill("#id_username", phone)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/workspace/**")


def test_operator_tops_up_and_records_a_trade_farmer_sees_credit_board_shows_price(
    phone, live_server, output_dir, market_at_work
):
    base = live_server.url

    # The operator signs in at the counter's screen and pays ¥500 cash onto the buyer's card.
    operator = phone(locale="en-US")
    operator.set_viewport_size(COUNTER_SCREEN)
    _sign_in(operator, base, "139 0000 0201")
    operator.click("main >> text=Card top-up")
    operator.wait_for_url(f"{base}/market/cards/top-up/")
    operator.fill("#id_card_number", BUYER_CARD)
    operator.fill("#id_amount", "500")
    assert operator.is_checked("input[name=method][value=cash]")
    operator.click("[data-testid=card-form] button[type=submit]")
    confirmation = operator.locator("[data-testid=card-confirmation]")
    expect(operator.locator("[data-testid=confirm-holder]")).to_have_text("李记餐饮")
    expect(operator.locator("[data-testid=confirm-before]")).to_have_text("¥0.00")
    expect(operator.locator("[data-testid=confirm-after]")).to_have_text("¥500.00")
    assert "Cash" in confirmation.inner_text()
    assert fits_the_screen(operator)
    operator.screenshot(path=output_dir / "1-operator-top-up-confirm.png", full_page=True)
    operator.click("[data-testid=confirm-payment]")
    # The confirmation posts to the form's own URL and comes back to it: wait for the news.
    expect(operator.locator(".message")).to_have_text(
        "¥500.00 paid onto the card of 李记餐饮; it holds ¥500.00."
    )
    assert operator.url == f"{base}/market/cards/top-up/"
    assert operator.input_value("#id_card_number") == ""  # a fresh form for the next card
    operator.screenshot(path=output_dir / "2-operator-topped-up.png", full_page=True)

    # At the counter: the cards, the product, the weighing and the price; the live preview
    # works out the net weight, the amount and both commissions as she types.
    operator.click("nav.mainnav >> text=Counter")
    operator.wait_for_url(f"{base}/market/counter/")
    operator.fill("#id_buyer_card", BUYER_CARD)
    operator.fill("#id_seller_card", SELLER_CARD)
    operator.fill("#product-filter", "大白菜")
    assert operator.input_value("#id_product") == CABBAGE
    operator.fill("#id_gross_kg", "120.5")
    operator.fill("#id_tare_kg", "2.5")
    operator.fill("#id_unit_price", "2.40")
    preview = operator.locator("[data-testid=live-preview]")
    expect(preview.locator("[data-preview=seller_receives]")).to_have_text("¥277.54")
    expect(preview.locator("[data-preview=buyer]")).to_have_text("李记餐饮")
    expect(preview.locator("[data-preview=seller]")).to_have_text("王秀英")
    expect(preview.locator("[data-preview=buyer_balance]")).to_have_text("¥500.00")
    expect(preview.locator("[data-preview=net_kg]")).to_have_text("118.000 kg")
    expect(preview.locator("[data-preview=amount]")).to_have_text("¥283.20")
    expect(preview.locator("[data-preview=buyer_fee]")).to_have_text("¥2.83")
    expect(preview.locator("[data-preview=seller_fee]")).to_have_text("¥5.66")
    expect(preview.locator("[data-preview=buyer_pays]")).to_have_text("¥286.03")
    assert preview.locator("[data-preview-errors] li").count() == 0
    assert fits_the_screen(operator)
    operator.screenshot(path=output_dir / "3-counter-form.png", full_page=True)

    operator.click("[data-testid=counter-form] button[type=submit]")
    expect(operator.locator("[data-testid=trade-confirmation]")).to_be_visible()
    expect(operator.locator("[data-testid=confirm-buyer]")).to_contain_text("李记餐饮")
    expect(operator.locator("[data-testid=confirm-seller]")).to_contain_text("王秀英")
    expect(operator.locator("[data-testid=confirm-net]")).to_have_text("118.000 kg")
    expect(operator.locator("[data-testid=confirm-amount]")).to_have_text("¥283.20")
    expect(operator.locator("[data-testid=confirm-buyer-pays]")).to_have_text("¥286.03")
    expect(operator.locator("[data-testid=confirm-balance]")).to_have_text("¥500.00")
    assert Trade.objects.count() == 0  # nothing is recorded before the confirmation
    assert fits_the_screen(operator)
    operator.screenshot(path=output_dir / "4-counter-confirm.png", full_page=True)

    operator.click("[data-testid=confirm-trade]")
    operator.wait_for_url(f"{base}/market/trades/*/receipt/")
    trade = Trade.objects.get()
    assert operator.inner_text(".message") == f"Trade #{trade.pk} recorded."
    receipt = operator.inner_text("[data-testid=receipt]")
    for seen in (
        f"XINFADI-{trade.pk:06d}",
        "李记餐饮 (card **** 0017)",
        "王秀英 (card **** 0029)",
        "大白菜 Chinese cabbage (napa)",
        "120.500 kg",
        "2.500 kg",
        "118.000 kg",
        "¥2.40",
        "¥283.20",
        "¥2.83",
        "¥286.03",
        "¥5.66",
        "¥277.54",
    ):
        assert seen in receipt
    assert fits_the_screen(operator)
    operator.screenshot(path=output_dir / "5-counter-receipt.png", full_page=True)

    # The farmer who sold opens her market account on her phone: the market owes her the
    # amount less the seller's commission, and today's trade is listed.
    farmer = phone(locale="en-US")
    _sign_in(farmer, base, "138 0000 0301")
    farmer.click("main a[href='/market/me/']")
    farmer.wait_for_url(f"{base}/market/me/")
    card = farmer.locator(f"[data-trader='{market_at_work['seller'].pk}']")
    assert card.locator("[data-testid=balance]").inner_text() == "¥277.54"
    assert "The market owes you" in card.inner_text()
    line = card.locator(f"[data-testid=trades] [data-trade='{trade.pk}']")
    assert "大白菜" in line.inner_text()
    assert "Sold" in line.inner_text()
    assert "118 kg × ¥2.40/kg = ¥283.20" in line.inner_text()
    assert "Commission ¥5.66" in line.inner_text()
    assert "You get ¥277.54" in line.inner_text()
    assert fits_the_screen(farmer)
    farmer.screenshot(path=output_dir / "6-farmer-market-account.png", full_page=True)

    # What the ledger holds agrees with what the three screens showed.
    assert str(trade.amount.amount) == "283.20"
    assert trade.recorded_by == market_at_work["operator"]
    buyer_balance = balance_of(markets.settlement_account(market_at_work["buyer"]))
    seller_balance = balance_of(markets.settlement_account(market_at_work["seller"]))
    assert str(buyer_balance.amount) == "213.97"
    assert str(seller_balance.amount) == "277.54"

    # Anyone's phone: one trade is not yet a price anyone may read off the board; once the
    # day is closed, the board shows the cabbage at the trade's price, and its 30-day
    # history draws the chart.
    board = phone(locale="en-US")  # signed out
    board.goto(f"{base}/market/prices/")
    row = board.locator(f"[data-product='{CABBAGE}']")
    assert "fewer than 3 trades" in row.inner_text()
    assert "2.40" not in row.inner_text()
    end_of_day.close_business_day(market=trade.market, business_date=trade.business_date)
    board.reload()
    assert "大白菜" in row.inner_text()
    assert row.locator("[data-testid=avg]").inner_text().startswith("¥2.40")
    assert "¥2.40 – ¥2.40 · 118 kg" in row.inner_text()
    assert fits_the_screen(board)
    board.screenshot(path=output_dir / "7-price-board.png", full_page=True)

    row.locator("a").click()
    board.wait_for_url(f"{base}/market/prices/{CABBAGE}/")
    chart = board.locator("[data-testid=chart] canvas")
    expect(chart).to_be_visible()
    assert chart.evaluate("canvas => canvas.width > 0 && canvas.height > 0")
    assert board.locator("[data-testid=latest] .big").inner_text() == "¥2.40"
    today = board.locator(f"[data-testid=history] tr[data-day='{trade.business_date:%Y-%m-%d}']")
    assert today.locator("td").all_inner_texts()[1:] == ["2.40", "2.40", "2.40", "118", "1"]
    assert fits_the_screen(board)
    board.screenshot(path=output_dir / "8-price-history.png", full_page=True)
