"""A buyer asks a market for a card: she applies (business name, licence number, contact),
the market's operator issues the card from the stock or declines with a reason, and her
market account page then shows the card. Rules, bad input, each role's limits, the pages."""

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import translation

from accounts.choices import AuditAction, Role
from accounts.models import AuditEntry, Consent, Notification
from accounts.privacy import POLICY_VERSION
from common.exceptions import RefusalKind
from marketplace.exceptions import (
    CardAlreadyHeld,
    CardApplicationDecided,
    CardApplicationNotFound,
    CardApplicationPending,
    CardNumberTaken,
    DeclineReasonMissing,
    InvalidCardApplication,
    InvalidCardNumber,
    MarketNotTakingApplications,
    NotABuyerAccount,
    NotMarketStaff,
)
from marketplace.markets import cards
from marketplace.markets.card_models import TraderCardApplication
from marketplace.markets.choices import CardApplicationStatus, TraderKind
from marketplace.models import Trader
from settlement.models import Account
from tests.accounts.factories import UserFactory

from .fixtures import BUYER_CARD

pytestmark = pytest.mark.django_db

LICENCE = "91350100M000100Y43"
NEW_CARD = "6230000000000001"
APPLICATION = {
    "business_name": "鲜味餐厅",
    "licence_number": LICENCE,
    "contact_name": "李娜",
    "contact_phone": "139 1000 0001",
}


@pytest.fixture
def restaurant(db):
    """A restaurant's account, signed up as a buyer, with no card anywhere."""
    return UserFactory(role=Role.BUYER, phone="+8613910000099", display_name="鲜味餐厅")


def apply(applicant, market, **changes):
    return cards.apply_for_card(
        applicant=applicant, market_id=market.pk, **{**APPLICATION, **changes}
    )


def approve(market, by, application, card=NEW_CARD, **kwargs):
    return cards.approve_card_application(
        market=market, by=by, application_id=application.pk, card_number=card, **kwargs
    )


def agreed(user):
    """She has agreed to the privacy policy in force, as every signed-up person has."""
    Consent.objects.get_or_create(user=user, policy_version=POLICY_VERSION)
    return user


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(agreed(user))
    return client


# --- Applying ------------------------------------------------------------------------------


def test_a_buyer_applies_and_her_application_waits_for_the_market(restaurant, market):
    application = apply(restaurant, market)

    application.refresh_from_db()
    assert application.status == CardApplicationStatus.PENDING
    assert application.applicant == restaurant
    assert application.contact_phone == "+8613910000001"  # normalised, as accounts keep them
    assert application.licence_number == LICENCE
    assert application.trader is None


def test_a_second_application_to_the_same_market_is_refused_while_one_waits(
    restaurant, market, other_market
):
    apply(restaurant, market)

    with pytest.raises(CardApplicationPending) as refused:
        apply(restaurant, market, business_name="another name")

    assert refused.value.field == "market"
    assert TraderCardApplication.objects.filter(applicant=restaurant).count() == 1
    apply(restaurant, other_market)  # another market is another question


def test_the_database_also_refuses_two_pending_applications(restaurant, market):
    apply(restaurant, market)

    with pytest.raises(IntegrityError), transaction.atomic():
        TraderCardApplication.objects.create(
            market=market,
            applicant=restaurant,
            business_name="x",
            licence_number=LICENCE,
            contact_name="x",
            contact_phone="+8613910000001",
        )


def test_a_buyer_who_holds_a_card_at_the_market_may_not_apply_there(
    buyer_trader, trading_buyer, market
):
    with pytest.raises(CardAlreadyHeld) as refused:
        apply(trading_buyer, market)

    assert refused.value.field == "market"
    assert not TraderCardApplication.objects.exists()


def test_she_may_apply_again_after_a_decline(restaurant, market, operator):
    first = apply(restaurant, market)
    cards.decline_card_application(
        market=market, by=operator, application_id=first.pk, reason="营业执照已过期"
    )

    second = apply(restaurant, market)

    assert second.status == CardApplicationStatus.PENDING


def test_a_market_that_takes_no_applications_is_refused(restaurant, market):
    market.accepts_card_applications = False
    market.save(update_fields=["accepts_card_applications"])

    with pytest.raises(MarketNotTakingApplications):
        apply(restaurant, market)
    with pytest.raises(MarketNotTakingApplications):
        cards.apply_for_card(applicant=restaurant, market_id=999999, **APPLICATION)


@pytest.mark.parametrize(
    "role", [Role.FARMER, Role.MARKET_OPERATOR, Role.COURIER, Role.WAREHOUSE_MANAGER]
)
def test_other_roles_may_not_apply(market, role):
    with pytest.raises(NotABuyerAccount) as refused:
        apply(UserFactory(role=role), market)

    assert refused.value.kind == RefusalKind.FORBIDDEN
    assert not TraderCardApplication.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("business_name", "   "),
        ("business_name", "餐" * 121),
        ("licence_number", "91350100M000100Y44"),  # wrong check character
        ("licence_number", "12345"),
        ("contact_name", ""),
        ("contact_phone", "010-12345678"),  # a landline: SMS cannot reach it
    ],
)
def test_bad_input_is_a_field_error_and_nothing_is_saved(restaurant, market, field, value):
    with pytest.raises(InvalidCardApplication) as refused:
        apply(restaurant, market, **{field: value})

    assert refused.value.field == field
    assert not TraderCardApplication.objects.exists()


def test_the_check_character_error_is_translated(restaurant, market):
    with translation.override("zh-hans"), pytest.raises(InvalidCardApplication) as refused:
        apply(restaurant, market, licence_number="91350100M000100Y44")

    assert "统一社会信用代码" in str(refused.value.message)


# --- Issuing the card ----------------------------------------------------------------------


def test_issuing_registers_her_as_a_buyer_linked_to_her_account(
    restaurant, market, operator, sms_outbox, django_capture_on_commit_callbacks
):
    application = apply(restaurant, market)

    with django_capture_on_commit_callbacks(execute=True):
        decided = approve(market, operator, application, address="10.0.0.7")

    trader = Trader.objects.get(card_number=NEW_CARD)
    assert (trader.market, trader.kind, trader.user) == (market, TraderKind.BUYER, restaurant)
    assert trader.name == "鲜味餐厅"
    assert trader.phone == "+8613910000001"
    assert Account.objects.filter(trader=trader, kind="prepaid").exists()
    decided.refresh_from_db()
    assert decided.status == CardApplicationStatus.APPROVED
    assert (decided.trader, decided.reviewed_by) == (trader, operator)
    assert decided.reviewed_at is not None
    # Told in the app and by SMS, to the number of her account.
    note = Notification.objects.get(user=restaurant, kind="market.card_issued")
    assert "0001" in note.body
    assert any("0001" in text for text in sms_outbox.messages_to("+8613910000099"))


def test_issuing_is_audited_without_a_name_or_number_in_clear(restaurant, market, operator):
    application = apply(restaurant, market)

    approve(market, operator, application, address="10.0.0.7")

    entry = AuditEntry.objects.get(action=AuditAction.TRADER_CARD_ISSUED)
    assert (entry.actor, entry.subject, entry.client_address) == (operator, restaurant, "10.0.0.7")
    assert entry.object_id == str(application.pk)
    assert entry.changes["card_last4"] == [None, "0001"]
    written = str(entry.changes) + entry.object_label
    for personal in ("鲜味餐厅", "李娜", "13910000001", "13910000099", NEW_CARD):
        assert personal not in written


def test_a_supervisor_and_a_counter_operator_may_both_issue(
    restaurant, market, operator, supervisor
):
    approve(market, supervisor, apply(restaurant, market))
    other = UserFactory(role=Role.BUYER)

    approve(market, operator, apply(other, market), card="6230000000000002")

    assert Trader.objects.filter(card_number__startswith="623").count() == 2


def test_an_operator_of_another_market_may_not_issue_or_decline(
    restaurant, market, other_market, other_operator
):
    application = apply(restaurant, market)

    with pytest.raises(NotMarketStaff):
        approve(market, other_operator, application)
    with pytest.raises(CardApplicationNotFound):
        approve(other_market, other_operator, application)
    with pytest.raises(CardApplicationNotFound):
        cards.decline_card_application(
            market=other_market, by=other_operator, application_id=application.pk, reason="no"
        )
    application.refresh_from_db()
    assert application.is_pending
    assert not Trader.objects.filter(card_number=NEW_CARD).exists()


@pytest.mark.parametrize("card", ["1234567", "62300000000000000001", "6230-0000", ""])
def test_a_malformed_card_number_is_refused(restaurant, market, operator, card):
    application = apply(restaurant, market)

    with pytest.raises(InvalidCardNumber) as refused:
        approve(market, operator, application, card=card)

    assert refused.value.field == "card_number"
    application.refresh_from_db()
    assert application.is_pending


def test_a_card_number_already_held_is_refused(restaurant, market, operator, buyer_trader):
    application = apply(restaurant, market)

    with pytest.raises(CardNumberTaken) as refused:
        approve(market, operator, application, card=BUYER_CARD)

    assert refused.value.field == "card_number"
    application.refresh_from_db()
    assert application.is_pending
    assert not Trader.objects.filter(user=restaurant).exists()
    assert not AuditEntry.objects.filter(action=AuditAction.TRADER_CARD_ISSUED).exists()


def test_an_application_is_decided_once(restaurant, market, operator):
    application = apply(restaurant, market)
    approve(market, operator, application)

    with pytest.raises(CardApplicationDecided) as refused:
        approve(market, operator, application, card="6230000000000002")
    with pytest.raises(CardApplicationDecided):
        cards.decline_card_application(
            market=market, by=operator, application_id=application.pk, reason="no"
        )

    assert refused.value.kind == RefusalKind.CONFLICT
    assert Trader.objects.filter(user=restaurant).count() == 1


def test_a_consumers_account_becomes_a_buyers_when_her_card_is_issued(market, operator):
    cook = UserFactory(role=Role.CONSUMER, phone="+8613910000077")
    application = apply(cook, market)

    approve(market, operator, application, address="10.0.0.8")

    cook.refresh_from_db()
    assert cook.role == Role.BUYER
    change = AuditEntry.objects.get(action=AuditAction.ROLE_CHANGED, subject=cook)
    assert (change.actor, change.changes["role"]) == (operator, ["consumer", "buyer"])
    assert Trader.objects.get(card_number=NEW_CARD).user == cook


def test_a_declined_consumer_stays_a_consumer(market, operator):
    cook = UserFactory(role=Role.CONSUMER)
    application = apply(cook, market)

    cards.decline_card_application(
        market=market, by=operator, application_id=application.pk, reason="非经营者"
    )

    cook.refresh_from_db()
    assert cook.role == Role.CONSUMER
    assert not AuditEntry.objects.filter(action=AuditAction.ROLE_CHANGED).exists()


def test_a_consumer_is_told_on_the_form_that_her_account_will_change(market):
    page = signed_in(UserFactory(role=Role.CONSUMER)).get(f"/market/cards/{market.pk}/apply/")

    assert 'data-testid="becomes-buyer"' in page.content.decode()


# --- Declining -----------------------------------------------------------------------------


def test_declining_keeps_the_reason_she_reads_and_tells_her(
    restaurant, market, operator, sms_outbox, django_capture_on_commit_callbacks
):
    application = apply(restaurant, market)

    with django_capture_on_commit_callbacks(execute=True):
        cards.decline_card_application(
            market=market, by=operator, application_id=application.pk, reason="营业执照已过期"
        )

    application.refresh_from_db()
    assert (application.status, application.reason) == (
        CardApplicationStatus.DECLINED,
        "营业执照已过期",
    )
    assert not Trader.objects.filter(user=restaurant).exists()
    assert Notification.objects.get(user=restaurant, kind="market.card_declined")
    assert any("营业执照已过期" in text for text in sms_outbox.messages_to("+8613910000099"))
    assert AuditEntry.objects.filter(
        action=AuditAction.TRADER_CARD_DECLINED, subject=restaurant
    ).exists()


def test_a_decline_needs_a_reason(restaurant, market, operator):
    application = apply(restaurant, market)

    with pytest.raises(DeclineReasonMissing):
        cards.decline_card_application(
            market=market, by=operator, application_id=application.pk, reason="  "
        )

    application.refresh_from_db()
    assert application.is_pending


# --- The pages -----------------------------------------------------------------------------


def test_a_buyer_finds_the_markets_and_applies_on_her_phone(restaurant, market):
    client = signed_in(restaurant)

    listing = client.get("/market/cards/")
    assert market.name in listing.content.decode()
    form = client.get(f"/market/cards/{market.pk}/apply/")
    assert form.status_code == 200
    response = client.post(f"/market/cards/{market.pk}/apply/", APPLICATION, follow=True)

    assert response.redirect_chain[-1][0] == "/market/cards/"
    page = response.content.decode()
    assert "Waiting for the market" in page
    assert TraderCardApplication.objects.get(applicant=restaurant).is_pending


def test_bad_input_on_the_page_is_shown_on_its_field_in_chinese(restaurant, market):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(agreed(restaurant))

    response = client.post(
        f"/market/cards/{market.pk}/apply/", {**APPLICATION, "licence_number": "91350100M000100Y44"}
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["licence_number"]
    assert "统一社会信用代码" in errors["licence_number"][0]
    assert not TraderCardApplication.objects.exists()


def test_a_second_application_on_the_page_is_an_error_on_the_form(restaurant, market):
    apply(restaurant, market)

    response = signed_in(restaurant).post(f"/market/cards/{market.pk}/apply/", APPLICATION)

    assert "already applied" in response.content.decode()
    assert TraderCardApplication.objects.count() == 1


@pytest.mark.parametrize("role", [Role.FARMER, Role.COURIER, Role.MARKET_OPERATOR])
def test_the_applicant_pages_are_for_buyers(market, role):
    client = signed_in(UserFactory(role=role))

    assert client.get("/market/cards/").status_code == 403
    assert client.get(f"/market/cards/{market.pk}/apply/").status_code == 403


def test_the_operator_issues_the_card_and_her_account_page_shows_it(restaurant, market, operator):
    application = apply(restaurant, market)
    desk = signed_in(operator)

    queue = desk.get("/market/card-applications/").content.decode()
    assert "鲜味餐厅" in queue
    detail = desk.get(f"/market/card-applications/{application.pk}/").content.decode()
    assert "+8613910000001" in detail  # the contact the market calls
    response = desk.post(
        f"/market/card-applications/{application.pk}/",
        {"issue": "1", "card_number": NEW_CARD},
        follow=True,
    )
    assert f"Card {NEW_CARD} is issued" in response.content.decode()

    account = signed_in(restaurant).get("/market/me/").content.decode()
    assert "card ending 0001" in account
    assert "Balance on your card" in account
    assert "¥0.00" in account
    api = signed_in(restaurant).get("/api/market/me/").json()
    assert [(t["market"], t["card_last4"], t["balance"]) for t in api] == [
        ("xinfadi", "0001", "0.00")
    ]


def test_a_taken_card_number_on_the_page_is_an_error_on_its_field(
    restaurant, market, operator, buyer_trader
):
    application = apply(restaurant, market)

    response = signed_in(operator).post(
        f"/market/card-applications/{application.pk}/", {"issue": "1", "card_number": BUYER_CARD}
    )

    assert response.context["issue_form"].errors["card_number"] == [
        "Another trader already holds this card number."
    ]
    application.refresh_from_db()
    assert application.is_pending


def test_the_operator_declines_and_the_applicant_reads_why(restaurant, market, operator):
    application = apply(restaurant, market)

    signed_in(operator).post(
        f"/market/card-applications/{application.pk}/",
        {"decline": "1", "reason": "请带营业执照原件到服务台"},
    )

    page = signed_in(restaurant).get("/market/cards/").content.decode()
    assert "Declined" in page
    assert "请带营业执照原件到服务台" in page


def test_an_operator_sees_only_her_markets_applications(
    restaurant, market, other_market, operator, other_operator
):
    mine = apply(restaurant, market)
    theirs = apply(UserFactory(role=Role.BUYER), other_market, business_name="江南酒家")

    queue = signed_in(operator).get("/market/card-applications/").content.decode()

    assert "鲜味餐厅" in queue
    assert "江南酒家" not in queue
    other = signed_in(other_operator)
    assert other.get(f"/market/card-applications/{mine.pk}/").status_code == 404
    response = other.post(
        f"/market/card-applications/{mine.pk}/", {"issue": "1", "card_number": NEW_CARD}
    )
    assert response.status_code == 404
    assert signed_in(operator).get(f"/market/card-applications/{theirs.pk}/").status_code == 404
    mine.refresh_from_db()
    assert mine.is_pending


@pytest.mark.parametrize("role", [Role.BUYER, Role.FARMER, Role.CONSUMER])
def test_the_operator_pages_are_for_operators(restaurant, market, role):
    application = apply(restaurant, market)
    client = signed_in(UserFactory(role=role))

    assert client.get("/market/card-applications/").status_code == 403
    assert client.get(f"/market/card-applications/{application.pk}/").status_code == 403


def test_an_operator_of_no_market_finds_nothing(restaurant, market, market_operator):
    application = apply(restaurant, market)
    client = signed_in(market_operator)

    assert client.get("/market/card-applications/").status_code == 404
    assert client.get(f"/market/card-applications/{application.pk}/").status_code == 404


def test_the_empty_account_page_offers_to_apply(restaurant):
    page = signed_in(restaurant).get("/market/me/").content.decode()

    assert 'data-testid="apply-for-card"' in page


def test_the_platform_admin_reads_applications_in_the_admin(restaurant, market):
    application = apply(restaurant, market)
    client = signed_in(UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True))

    listing = client.get("/admin/marketplace/tradercardapplication/")
    detail = client.get(f"/admin/marketplace/tradercardapplication/{application.pk}/change/")

    assert listing.status_code == 200
    assert "鲜味餐厅" in listing.content.decode()
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()  # decided at the market, not here
