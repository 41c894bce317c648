"""Run by `manage.py shell` (tests/cluster/test_workers_killed.py), never imported: a market of its
own with three sellers who each sold today and one funded buyer, so end of day has payouts to make.
Prints one JSON line: the market, the business date, the sellers' settlement accounts."""

import json
import sys
import time
from decimal import Decimal

from accounts.choices import Role
from accounts.models import User
from farms.models import Product
from marketplace.markets.choices import TraderKind
from marketplace.markets.end_of_day import business_today
from marketplace.markets.funding import top_up_card
from marketplace.markets.services import (
    add_staff,
    create_market,
    register_trader,
    settlement_account,
)
from marketplace.markets.trades import settle_trade
from settlement.choices import FundingMethod

stamp = str(int(time.time()))
market = create_market(code=f"cl{stamp}", name=f"集群测试市场 {stamp}", city="北京")
operator = User.objects.create_user(
    username=f"cluster-op-{stamp}", password="freshchain", role=Role.MARKET_OPERATOR
)
add_staff(
    market=market,
    user=operator,
    is_supervisor=True,
    transaction_limit=Decimal("1000000"),
    daily_limit=Decimal("10000000"),
)
sellers = [
    register_trader(
        market=market, kind=TraderKind.SELLER, name=f"卖家{i}", card_number=f"9{stamp}{i}"
    )
    for i in range(3)
]
buyer = register_trader(market=market, kind=TraderKind.BUYER, name="买家", card_number=f"8{stamp}0")
top_up_card(
    market=market,
    by=operator,
    card_number=buyer.card_number,
    amount=Decimal("100000.00"),
    method=FundingMethod.BANK,
    idempotency_key=f"cl-{stamp}-topup",
)
product = Product.objects.get(code="VEG-CELERY")
for i, seller in enumerate(sellers):
    settle_trade(
        market=market,
        by=operator,
        buyer_card=buyer.card_number,
        seller_card=seller.card_number,
        product=product,
        gross_kg=Decimal("100"),
        tare_kg=Decimal("2"),
        unit_price=Decimal("3.20"),
        idempotency_key=f"cl-{stamp}-t{i}",
    )
sys.stdout.write(
    json.dumps(
        {
            "market": market.pk,
            "date": business_today().isoformat(),
            "sellers": [settlement_account(s).pk for s in sellers],
        }
    )
    + "\n"
)
