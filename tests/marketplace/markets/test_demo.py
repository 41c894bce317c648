"""The demo market: 北京新发地 with its people, rules and a month of trades, seeded twice."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from common.dates import business_today
from farms.models import Product
from marketplace.markets import demo
from marketplace.markets.choices import DayStatus, TraderKind
from marketplace.markets.selectors.prices import price_history
from marketplace.markets.services import settlement_account
from marketplace.models import (
    CommissionRule,
    DailyReport,
    FundingRequest,
    Market,
    MarketDay,
    MarketStaff,
    Stall,
    Statement,
    Trade,
    Trader,
    TraderCardApplication,
)
from settlement.accounts import wallet_of
from settlement.models import BalanceSlot, JournalEntry, Posting
from settlement.selectors import balance_of

FOLLOWED_LOT = "DEMO-SG-TRACE-01"  # traceability.demo.journey.LOT_CODE

pytestmark = pytest.mark.django_db


def _seed() -> None:
    call_command("seed_demo", force=True, stdout=StringIO())


def _figures() -> dict:
    models = (
        Market,
        MarketStaff,
        Stall,
        CommissionRule,
        Trader,
        MarketDay,
        Trade,
        JournalEntry,
        FundingRequest,
        TraderCardApplication,
    )
    figures = {model.__name__: model.objects.count() for model in models}
    figures.update(
        postings=Posting.objects.count(),
        statements=Statement.objects.count(),
        reports=DailyReport.objects.count(),
        balances=sorted(BalanceSlot.objects.values_list("account_id", "slot", "amount").order_by()),
        wallets=BalanceSlot.objects.filter(account__user__isnull=False).aggregate(
            total=Sum("amount")
        )["total"],
    )
    return figures


@pytest.fixture(scope="module")
def seeded_twice(django_db_setup, django_db_blocker):
    """Seed once, note every count and balance, seed again; both snapshots for the tests."""
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            _seed()
            first = _figures()
            _seed()
            second = _figures()
            yield first, second
            transaction.set_rollback(True)


def test_seeding_twice_changes_nothing(seeded_twice):
    first, second = seeded_twice
    assert first == second
    assert first["Trade"] > 100


def test_the_cashier_needs_the_supervisor_for_large_cash(seeded_twice):
    cashier = MarketStaff.objects.select_related("market").get(user__username="cashier")
    assert not cashier.is_supervisor
    assert cashier.market.approval_threshold.amount == Decimal("5000.00")
    requests = FundingRequest.objects.filter(requested_by=cashier.user)
    assert {(r.kind, r.status) for r in requests} == {
        ("top_up", "approved"),
        ("top_up", "pending"),
        ("withdrawal", "pending"),
    }
    assert requests.get(status="approved").decided_by.username == "operator"


def test_a_restaurant_waits_for_its_card_at_xinfadi(seeded_twice):
    application = TraderCardApplication.objects.get()
    assert application.market.code == "xinfadi"
    assert application.applicant.username == "buyer3"
    assert application.applicant.role == "buyer"
    assert application.is_pending
    assert not Trader.objects.filter(user=application.applicant).exists()


def test_the_operator_supervises_xinfadi(seeded_twice):
    staff = MarketStaff.objects.select_related("market").get(user__username="operator")
    assert staff.market.code == "xinfadi"
    assert staff.market.name == "北京新发地农产品批发市场"
    assert staff.is_supervisor


def test_the_farmer_and_the_coops_sell_and_the_buyer_buys(seeded_twice):
    farmer = Trader.objects.get(user__username="farmer")
    assert farmer.kind == TraderKind.SELLER
    assert farmer.market.code == "xinfadi"
    assert farmer.cooperative is not None
    assert Statement.objects.filter(trader=farmer).count() >= 5
    for manager in ("coop", "coop2", "apple.coop"):
        coop = Trader.objects.get(user__username=manager)
        assert coop.kind == TraderKind.SELLER
        assert coop.cooperative is not None
    buyer = Trader.objects.get(user__username="buyer")
    assert buyer.kind == TraderKind.BUYER
    assert balance_of(settlement_account(buyer)).amount >= 5000
    assert Trader.objects.filter(market__code="xinfadi", user__isnull=True).count() >= 3


def test_a_month_of_closed_days_with_a_board_to_show(seeded_twice):
    market = Market.objects.get(code="xinfadi")
    today = business_today()
    days = MarketDay.objects.filter(market=market)
    assert days.filter(status=DayStatus.CLOSED).count() == demo.HISTORY_DAYS
    assert days.get(business_date=today).status == DayStatus.OPEN
    assert DailyReport.objects.filter(market=market).count() == demo.HISTORY_DAYS
    # Past trades carry their own business date, and today's are few and still open.
    # (traceability's demo sells its followed lot today too; it is not this demo's)
    todays = Trade.objects.filter(market=market, business_date=today)
    assert todays.exclude(lot__lot_code=FOLLOWED_LOT).count() == demo.TODAY_TRADES
    assert Trade.objects.filter(market=market).values("business_date").distinct().count() == (
        demo.HISTORY_DAYS + 1
    )
    assert Trade.objects.filter(market=market, reversal__isnull=False).exists()

    cabbage = Product.objects.get(code="VEG-CHINESE-CABBAGE")
    history = price_history(product=cabbage, until=today, market=market)
    # Closed days are on the board whatever their number of trades; today waits for three.
    board = [row for row in history if row.published]
    assert {row.business_date for row in history} - {row.business_date for row in board} <= {today}
    assert len(board) >= 20
    assert all(1 <= row.avg_price <= 2 for row in board)
    assert len({row.avg_price for row in board}) > 10  # the chart moves


def test_the_demo_buyers_can_pay_for_marketplace_orders(seeded_twice):
    from accounts.models import User

    for username in ("buyer", "buyer2"):
        assert balance_of(wallet_of(User.objects.get(username=username))).amount >= 10000
