"""A consumer deletes her account (PIPL art. 47): her orders, trace records and the ledger stay,
with a pseudonym; nothing in the database still holds her number or her name; the ledger still
verifies. With money in her wallet she is refused, and shown the balance."""

from datetime import time, timedelta
from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone, translation
from knox.models import AuthToken

from accounts.choices import AuditAction, CodePurpose, Role
from accounts.exceptions import AccountDeletionBlocked, WrongPasswordForDeletion
from accounts.models import AuditEntry, Consent, PhoneCode, User
from accounts.notifications import notify
from accounts.services.audit import record_audit
from accounts.services.callbacks import request_callback
from accounts.services.passwords import issue_api_token
from accounts.services.personal_data import delete_account, export_personal_data
from delivery.models import (
    CourierInvitation,
    DeliveryOrder,
    DeliveryOrderStatus,
    FrontWarehouse,
    WarehouseStaff,
)
from delivery.services import couriers, dispatch, offers
from delivery.services.orders import pack_order, place_order
from farms.choices import ApplicationStatus
from farms.models import CooperativeApplication, MembershipInvitation
from marketplace.markets.card_models import TraderCardApplication
from settlement.accounts import wallet_of
from settlement.choices import FundingMethod
from settlement.funding import withdraw
from settlement.models import Account, JournalEntry
from settlement.selectors import wallet_balance
from tests.accounts.factories import PASSWORD, UserFactory
from tests.delivery.factories import courier_at, front_warehouse, fund_wallet, stocked
from tests.farms.factories import CooperativeFactory, ProductFactory
from tests.traceability.recall_factories import open_and_list
from traceability.models import RecallNotice, RecallScopeRow

pytestmark = pytest.mark.django_db

WAREHOUSE_AT = (116.40, 39.90)
HOME = (116.41, 39.91)
PHONE = "+8615912345678"
# Rare names, so a hit can only be hers.
DISPLAY_NAME, LAST_NAME, FIRST_NAME = "闾丘沁蕾", "闾丘", "沁蕾"
USERNAME = "qinlei-lq"
EMAIL = "qinlei.lq@example.com"
NEEDLES = [PHONE, PHONE[3:], DISPLAY_NAME, LAST_NAME, FIRST_NAME, USERNAME, EMAIL]


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def her(db):
    user = UserFactory(
        role=Role.CONSUMER,
        username=USERNAME,
        phone=PHONE,
        display_name=DISPLAY_NAME,
        first_name=FIRST_NAME,
        last_name=LAST_NAME,
        email=EMAIL,
        consented=False,
    )
    Consent.objects.create(user=user, policy_version="2026-12", client_address="10.0.0.9")
    return user


@pytest.fixture
def shop(db):
    warehouse = front_warehouse("privacy", *WAREHOUSE_AT, half_side=0.05)
    FrontWarehouse.objects.filter(pk=warehouse.pk).update(opens_at=time(0), closes_at=time(0))
    warehouse.refresh_from_db()
    spinach = ProductFactory()
    stock = stocked(warehouse, spinach, kg="20")
    manager = UserFactory(role=Role.WAREHOUSE_MANAGER)
    WarehouseStaff.objects.create(warehouse=warehouse, user=manager)
    rider = courier_at(WAREHOUSE_AT[0] + 0.001, WAREHOUSE_AT[1])
    return warehouse, spinach, stock, manager, rider


def _delivered_order(her, shop) -> DeliveryOrder:
    _warehouse, spinach, _stock, manager, rider = shop
    order = place_order(
        consumer=her,
        longitude=HOME[0],
        latitude=HOME[1],
        address=f"朝阳区建国路 88 号 3-201 {LAST_NAME}女士 {PHONE[3:]}",
        lines=[(spinach.pk, Decimal("1.5"))],
    )
    pack_order(by=manager, order_id=order.pk)
    task = dispatch.dispatch_order(order_id=order.pk)
    offer = task.offers.get()
    offers.accept_offer(courier=rider, offer_id=offer.pk)
    couriers.pick_up(courier=rider, task_id=task.pk)
    couriers.deliver_with_code(courier=rider, order_id=order.pk, code=order.delivery_code)
    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.DELIVERED
    return order


def _her_history(her, shop) -> DeliveryOrder:
    """Past orders, a recall that reached her, codes, tokens, a session, a failed sign-in,
    a call-back request and other people's notes naming her: a real account's traces."""
    fund_wallet(her, "100.00")
    order = _delivered_order(her, shop)
    _warehouse, _spinach, stock, manager, rider = shop
    open_and_list(
        lot_id=stock.lot_id,
        reason="Pesticide residue found in a retained sample",
        severity="class_ii",
        opened_by=UserFactory(role=Role.ADMIN),
    )
    assert RecallScopeRow.objects.filter(party_user=her).exists()
    assert RecallNotice.objects.filter(user=her).exists()
    request_callback(
        requester=rider.user,
        person=her,
        requester_role="courier",
        about_key=f"delivery.order:{order.pk}",
        about=f"order {order.number}",
    )
    notify(
        user=manager,
        kind="note",
        title=f"{DISPLAY_NAME} asked about {order.number}",
        body=f"Call her on {PHONE[3:]} ({PHONE})",
        payload={"who": DISPLAY_NAME, "phone": PHONE},
    )
    PhoneCode.objects.create(
        phone=PHONE,
        purpose=CodePurpose.SIGN_IN,
        code_hash="0" * 64,
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    AccessAttempt.objects.create(
        username=PHONE, ip_address="10.0.0.9", user_agent="test", failures_since_start=1
    )
    record_audit(
        action=AuditAction.PHONE_CHANGED,
        actor=her,
        subject=her,
        target=her,
        changes={"phone": ("+8613900000000", PHONE), "display_name": ("", DISPLAY_NAME)},
    )
    issue_api_token(user=her)
    Client().force_login(her)
    return order


def _withdraw_all(user) -> None:
    balance = wallet_balance(user).amount
    if balance:
        withdraw(
            account=wallet_of(user),
            amount=balance,
            method=FundingMethod.CASH,
            by=user,
            idempotency_key=f"withdraw-all:{user.pk}",
        )


def _text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.table_name, c.column_name
              FROM information_schema.columns c
              JOIN information_schema.tables t
                ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
               AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')
             ORDER BY 1, 2
            """
        )
        return cursor.fetchall()


def _hits(needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every text, varchar, json or jsonb column holding a needle."""
    found = []
    with connection.cursor() as cursor:
        for table, column in _text_columns():
            for needle in needles:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text LIKE %s',
                    [f"%{needle}%"],
                )
                if cursor.fetchone()[0]:
                    found.append((table, column, needle))
    return found


def test_deleted_consumer_leaves_her_orders_and_the_ledger_and_no_trace_of_her(her, shop):
    order = _her_history(her, shop)
    _withdraw_all(her)
    call_command("verify_ledger", "--seal", verbosity=0)
    entries_before = JournalEntry.objects.count()
    # The search finds her where she is, before: in the user row, her order, the codes...
    before = {(table, column) for table, column, _needle in _hits(NEEDLES)}
    assert {
        ("accounts_user", "phone"),
        ("accounts_user", "display_name"),
        ("delivery_deliveryorder", "address"),
        ("accounts_phonecode", "phone"),
        ("accounts_notification", "payload"),
        ("marketplace_account", "name"),
    } <= before

    pseudonym = delete_account(user=her, password=PASSWORD, address="10.0.0.9")

    assert _hits(NEEDLES) == []
    call_command("verify_ledger", verbosity=0)  # raises CommandError on any mismatch
    assert JournalEntry.objects.count() == entries_before
    gone = User.objects.get(pk=her.pk)
    assert gone.username == pseudonym
    assert pseudonym.startswith("deleted-")
    assert (gone.phone, gone.display_name, gone.email, gone.is_active) == (None, "", "", False)
    assert not gone.has_usable_password()
    # Her order stays whole, with her pseudonym: amounts, lines and picked lots.
    kept = DeliveryOrder.objects.get(pk=order.pk)
    assert kept.consumer_id == her.pk
    assert kept.total == order.total
    assert kept.status == DeliveryOrderStatus.DELIVERED
    assert kept.lines.get().picks.exists()
    assert str(kept.consumer) == pseudonym
    # The recall still finds the order she received, by id.
    assert RecallScopeRow.objects.filter(party_user=her).exists()
    assert Account.objects.filter(user=her).exclude(name=pseudonym).count() == 0
    assert not AuthToken.objects.filter(user=her).exists()
    assert Consent.objects.filter(user=her).exists()
    deleted = AuditEntry.objects.get(action=AuditAction.ACCOUNT_DELETED, subject=her)
    assert (deleted.actor_id, deleted.changes, deleted.object_label) == (her.pk, {}, "")


def test_deletion_is_refused_with_money_in_her_wallet_and_changes_nothing(her, shop):
    fund_wallet(her, "100.00")
    _delivered_order(her, shop)
    balance = wallet_balance(her).amount
    assert balance > 0

    with pytest.raises(AccountDeletionBlocked) as refusal:
        delete_account(user=her, password=PASSWORD, address=None)

    assert f"¥{balance:.2f}" in str(refusal.value.message)
    assert "withdraw it first" in str(refusal.value.message)
    assert refusal.value.field == "password"
    her.refresh_from_db()
    assert (her.username, her.phone, her.is_active) == (USERNAME, PHONE, True)
    assert DeliveryOrder.objects.get(consumer=her).address.startswith("朝阳区")
    assert not AuditEntry.objects.filter(action=AuditAction.ACCOUNT_DELETED).exists()


def test_deletion_needs_her_password(her):
    with pytest.raises(WrongPasswordForDeletion):
        delete_account(user=her, password="not-hers", address=None)
    her.refresh_from_db()
    assert her.is_active


def test_deletion_takes_her_out_of_applications_and_invitations_to_her_number(her, market):
    """What joining left about her: a co-operative application, a card application, and
    invitations sent to her number (one before she had an account)."""
    cooperative = CooperativeFactory()
    warehouse = front_warehouse("joining", *WAREHOUSE_AT, half_side=0.05)
    application = CooperativeApplication.objects.create(
        applicant=her,
        name="沁蕾果蔬专业合作社",
        registration_code="93370783MA3C1234X5",
        province="山东省",
        region="寿光市",
        contact_name=DISPLAY_NAME,
        contact_phone=PHONE,
        reason=f"Dear {DISPLAY_NAME}, the licence photo is blurred.",
        status=ApplicationStatus.CHANGES_REQUESTED,
        submitted_at=timezone.now(),
    )
    card = TraderCardApplication.objects.create(
        market=market,
        applicant=her,
        business_name=f"{DISPLAY_NAME}饺子馆",
        licence_number="92110105MA01ABCD1X",
        contact_name=DISPLAY_NAME,
        contact_phone=PHONE,
    )
    MembershipInvitation.objects.create(cooperative=cooperative, user=None, phone=PHONE)
    CourierInvitation.objects.create(
        warehouse=warehouse,
        phone=PHONE,
        token_hash="f" * 64,
        sent_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=7),
    )
    exported = export_personal_data(user=her, address=None).sections
    assert exported["farms"]["cooperative_applications"][0]["contact_phone"] == PHONE
    assert exported["marketplace"]["card_applications"][0]["contact_name"] == DISPLAY_NAME
    assert exported["delivery"]["courier_invitations"][0]["phone"] == PHONE

    delete_account(user=her, password=PASSWORD, address=None)

    assert _hits(NEEDLES) == []
    # Neither application made anything, so neither is kept; the invitations stay, masked.
    assert not CooperativeApplication.objects.filter(pk=application.pk).exists()
    assert not TraderCardApplication.objects.filter(pk=card.pk).exists()
    assert MembershipInvitation.objects.get().phone == "159****5678"
    assert CourierInvitation.objects.get().phone == "159****5678"
