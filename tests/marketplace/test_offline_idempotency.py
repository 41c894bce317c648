"""The farmer's actions a phone keeps while offline are sent with an idempotency key, or are
steps that reach a state: sent twice, they have one effect and the same answer."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from PIL import Image

from common.dates import business_today
from marketplace.choices import OrderStatus
from marketplace.models import Listing, ListingPhoto, OrderEvent
from marketplace.services.listings import create_listing
from marketplace.services.orders import accept_order, mark_ready
from tests.marketplace.factories import ListingFactory
from tests.marketplace.order_factories import order_in

pytestmark = pytest.mark.django_db

KEY = "5e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _jpeg() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(data, format="JPEG")
    data.seek(0)
    data.name = "cucumber.jpg"
    return data


def _fields(**overrides) -> dict:
    return {
        "price": "4.80",
        "quantity": "40",
        "minimum_order": "2",
        "available_until": (business_today() + timedelta(days=3)).isoformat(),
        "idempotency_key": KEY,
        **overrides,
    }


def test_create_listing_twice_with_one_key_is_one_listing(member, lot, in_three_days):
    arguments = {
        "listed_by": member,
        "lot": lot,
        "price_per_kg": Decimal("4.80"),
        "available_kg": Decimal("40"),
        "minimum_order_kg": Decimal("2"),
        "available_until": in_three_days,
        "idempotency_key": KEY,
    }

    first = create_listing(**arguments)
    second = create_listing(**arguments)

    assert second.pk == first.pk
    assert Listing.objects.count() == 1


def test_a_listing_with_its_photo_sent_twice_is_one_listing_with_one_photo(member, lot):
    client = _client(member)

    answers = [client.post(f"/lots/{lot.pk}/sell/", _fields(photo=_jpeg())) for _ in range(2)]

    listing = Listing.objects.get()
    assert [answer.status_code for answer in answers] == [302, 302]
    assert answers[0]["Location"] == answers[1]["Location"]
    assert listing.available_kg == Decimal("40.000")
    assert listing.photos.count() == 1


def test_the_second_send_does_not_count_against_the_lot(member, lot):
    """100 kg in the lot: a 60 kg listing sent twice is one listing, not a refusal for the
    second 60 kg that the lot does not have."""
    client = _client(member)

    answers = [client.post(f"/lots/{lot.pk}/sell/", _fields(quantity="60")) for _ in range(2)]

    assert [answer.status_code for answer in answers] == [302, 302]
    assert Listing.objects.get().available_kg == Decimal("60.000")


def test_an_edit_with_a_photo_sent_twice_adds_one_photo(member, lot):
    listing = ListingFactory(lot=lot, available_kg=Decimal("60.000"))
    client = _client(member)

    for _ in range(2):
        client.post(f"/listings/{listing.pk}/edit/", _fields(quantity="30", photo=_jpeg()))

    listing.refresh_from_db()
    assert listing.available_kg == Decimal("30.000")
    assert ListingPhoto.objects.filter(listing=listing).count() == 1


def test_a_refused_listing_draft_shows_its_field_error_and_saves_nothing(member, lot):
    response = _client(member).post(f"/lots/{lot.pk}/sell/", _fields(quantity="500"))

    assert response.status_code == 200
    assert response.context["form"].errors["quantity"]
    assert Listing.objects.count() == 0


def test_anothers_key_never_returns_her_listing(member, lot, other_lot):
    _client(member).post(f"/lots/{lot.pk}/sell/", _fields())

    response = _client(other_lot.farm.farmer).post(f"/lots/{other_lot.pk}/sell/", _fields())

    assert response.status_code == 302
    assert sorted(Listing.objects.values_list("lot_id", flat=True)) == sorted(
        [lot.pk, other_lot.pk]
    )


def test_anothers_lot_is_not_found_with_any_key(member, other_lot):
    response = _client(member).post(f"/lots/{other_lot.pk}/sell/", _fields())

    assert response.status_code == 404
    assert Listing.objects.count() == 0


def test_accepting_or_readying_twice_has_one_effect(member, lot, buyer):
    listing = ListingFactory(lot=lot, available_kg=Decimal("60.000"))
    order = order_in(OrderStatus.PLACED, buyer=buyer, listing=listing)

    first = accept_order(by=member, order_id=order.pk)
    again = accept_order(by=member, order_id=order.pk)
    ready = mark_ready(by=member, order_id=order.pk)
    ready_again = mark_ready(by=member, order_id=order.pk)

    assert (first.status, again.status) == (OrderStatus.ACCEPTED, OrderStatus.ACCEPTED)
    assert (ready.status, ready_again.status) == (OrderStatus.READY, OrderStatus.READY)
    assert list(
        OrderEvent.objects.filter(order=order).order_by("pk").values_list("status", flat=True)
    ) == [OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.READY]


def test_the_order_page_answers_a_step_sent_twice_as_done(member, lot, buyer):
    listing = ListingFactory(lot=lot, available_kg=Decimal("60.000"))
    order = order_in(OrderStatus.PLACED, buyer=buyer, listing=listing)
    client = _client(member)

    client.post(f"/orders/{order.pk}/accept/")
    again = client.post(f"/orders/{order.pk}/accept/", follow=True)

    assert f"Order #{order.pk}: Accepted." in again.content.decode()
    assert OrderEvent.objects.filter(order=order, status=OrderStatus.ACCEPTED).count() == 1


def test_the_buyer_cannot_accept_his_own_order(member, lot, buyer):
    listing = ListingFactory(lot=lot, available_kg=Decimal("60.000"))
    order = order_in(OrderStatus.PLACED, buyer=buyer, listing=listing)

    response = _client(buyer).post(f"/orders/{order.pk}/accept/", follow=True)

    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert response.status_code == 200
