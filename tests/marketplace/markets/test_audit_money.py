"""Money leaving an account by someone's decision is audited once: reversals, withdrawals,
payouts; and so are the cards an operator issues or suspends, and staff changes."""

from datetime import datetime, time

import pytest
import time_machine
from django.test import Client

from accounts.choices import AuditAction, Role
from accounts.models import AuditEntry
from common.dates import BUSINESS_TIME_ZONE, business_today
from marketplace.markets import end_of_day, funding
from marketplace.markets import services as markets
from marketplace.markets.funding_models import FundingRequest
from marketplace.markets.models import MarketStaff, Trader
from settlement.choices import EntryKind
from settlement.models import JournalEntry
from tests.accounts.factories import UserFactory

from .fixtures import BUYER_CARD

pytestmark = pytest.mark.django_db

ADDRESS = "192.0.2.44"


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def only(action) -> AuditEntry:
    return AuditEntry.objects.get(action=action)


def test_a_reversal_is_audited_once_with_the_amount_and_the_card(
    supervisor, settle, commission, trading_buyer, buyer_trader
):
    trade = settle("t1")
    client = signed_in(supervisor)
    post = {"reason": "Wrong buyer card", "idempotency_key": "r1"}

    client.post(f"/market/trades/{trade.pk}/reverse/", post, REMOTE_ADDR=ADDRESS)
    client.post(f"/market/trades/{trade.pk}/reverse/", post, REMOTE_ADDR=ADDRESS)

    reversal = JournalEntry.objects.get(reverses=trade.entry)
    entry = only(AuditAction.REVERSAL)
    assert (entry.actor, entry.subject, entry.client_address) == (
        supervisor,
        trading_buyer,
        ADDRESS,
    )
    assert (entry.object_type, entry.object_id) == ("settlement.journalentry", str(reversal.pk))
    assert entry.changes == {
        "amount": [None, "118.78"],
        "account": [None, markets.settlement_account(buyer_trader).pk],
        "reverses": [None, trade.entry_id],
    }
    # The reason is free text: it stays on the entry, not in the log.
    assert "Wrong buyer card" not in str(entry.changes)


def test_an_approved_withdrawal_is_audited_and_a_top_up_is_not(
    market, operator, supervisor, buyer_trader, trading_buyer
):
    withdrawal = funding.withdraw_from_card(
        market=market, by=operator, card_number=BUYER_CARD, amount="300.00", method="bank",
        idempotency_key="w1",
    )  # fmt: skip
    top_up = funding.top_up_card(
        market=market, by=operator, card_number=BUYER_CARD, amount="9000.00", method="cash",
        idempotency_key="t1",
    )  # fmt: skip
    client = signed_in(supervisor)

    for request in (withdrawal, top_up):
        client.post(f"/market/requests/{request.pk}/approve/", REMOTE_ADDR=ADDRESS)
    client.post(f"/market/requests/{withdrawal.pk}/approve/", REMOTE_ADDR=ADDRESS)

    assert FundingRequest.objects.filter(status="approved").count() == 2
    entry = AuditEntry.objects.get()
    assert entry.action == AuditAction.WITHDRAWAL
    assert (entry.actor, entry.subject, entry.client_address) == (
        supervisor,
        trading_buyer,
        ADDRESS,
    )
    assert entry.changes["amount"] == [None, "300.00"]
    assert entry.changes["method"] == [None, "bank"]


def test_a_payout_is_audited_once_for_the_seller(
    market, supervisor, settle, commission, seller_trader, trading_farmer
):
    day = business_today()
    with time_machine.travel(datetime.combine(day, time(10), BUSINESS_TIME_ZONE), tick=False):
        settle("t1")
    with time_machine.travel(datetime.combine(day, time(23, 30), BUSINESS_TIME_ZONE), tick=False):
        end_of_day.close_business_day(market=market, business_date=day, by=supervisor)
        end_of_day.close_business_day(market=market, business_date=day, by=supervisor)

    payout = JournalEntry.objects.get(kind=EntryKind.PAYOUT)
    entry = only(AuditAction.PAYOUT)
    assert (entry.actor, entry.subject) == (supervisor, trading_farmer)
    assert entry.object_id == str(payout.pk)
    assert entry.changes == {
        "amount": [None, "115.25"],
        "account": [None, markets.settlement_account(seller_trader).pk],
    }


def test_an_operator_issuing_and_suspending_a_card_is_audited(market, operator, trading_farmer):
    client = signed_in(operator)
    client.post(
        "/market/traders/new/",
        {
            "name": "张三",
            "kind": "seller",
            "card_number": "62010000000099",
            "phone": "13912345678",
            "user_phone": trading_farmer.phone.removeprefix("+86"),
        },
        REMOTE_ADDR=ADDRESS,
    )
    trader = Trader.objects.get(card_number="62010000000099")
    client.post(f"/market/traders/{trader.pk}/activation/", {"active": "0"}, REMOTE_ADDR=ADDRESS)
    client.post(f"/market/traders/{trader.pk}/activation/", {"active": "0"}, REMOTE_ADDR=ADDRESS)

    issued = only(AuditAction.TRADER_CARD_ISSUED)
    assert (issued.actor, issued.subject, issued.client_address) == (
        operator,
        trading_farmer,
        ADDRESS,
    )
    assert issued.changes == {
        "card_number": [None, "62010000000099"],
        "kind": [None, "seller"],
    }
    suspended = only(AuditAction.TRADER_CARD_SUSPENDED)
    assert suspended.changes == {"is_active": [True, False]}
    # The trader's name and phone are hers: the log names the card by market and id.
    for entry in (issued, suspended):
        assert entry.object_label == f"xinfadi seller #{trader.pk}"
        assert "张三" not in str(entry.changes)
        assert "13912345678" not in str(entry.changes)


def test_staff_added_changed_and_removed_in_the_admin_are_audited(market):
    admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    clerk = UserFactory(role=Role.MARKET_OPERATOR)
    client = signed_in(admin)

    client.post(
        "/admin/marketplace/marketstaff/add/",
        {"market": market.pk, "user": clerk.pk, "transaction_limit_0": "",
         "transaction_limit_1": "CNY", "daily_limit_0": "", "daily_limit_1": "CNY"},
        REMOTE_ADDR=ADDRESS,
    )  # fmt: skip
    staff = MarketStaff.objects.get(user=clerk)
    client.post(
        f"/admin/marketplace/marketstaff/{staff.pk}/change/",
        {"market": market.pk, "user": clerk.pk, "is_supervisor": "on",
         "transaction_limit_0": "", "transaction_limit_1": "CNY", "daily_limit_0": "",
         "daily_limit_1": "CNY"},
        REMOTE_ADDR=ADDRESS,
    )  # fmt: skip
    client.post(
        f"/admin/marketplace/marketstaff/{staff.pk}/delete/", {"post": "yes"}, REMOTE_ADDR=ADDRESS
    )

    assert not MarketStaff.objects.filter(user=clerk).exists()
    entries = list(
        AuditEntry.objects.filter(action=AuditAction.MARKET_STAFF_CHANGED).order_by("id")
    )
    assert [entry.changes for entry in entries] == [
        {"market": [None, market.pk], "user": [None, clerk.pk], "is_supervisor": [None, False]},
        {"is_supervisor": [False, True]},
        {"market": [market.pk, None], "is_supervisor": [True, None]},
    ]
    assert {(entry.actor, entry.subject, entry.client_address) for entry in entries} == {
        (admin, clerk, ADDRESS)
    }
    assert entries[0].object_label == f"xinfadi staff user #{clerk.pk}"
