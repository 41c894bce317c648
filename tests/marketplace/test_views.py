"""Marketplace pages: selling from a lot, searching, ordering, each role's limits."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from djmoney.money import Money
from PIL import Image

from accounts.choices import Role
from common.dates import business_today
from marketplace.choices import ListingStatus, OrderStatus
from marketplace.models import Listing, ListingPhoto, Order
from marketplace.services.orders import place_order
from tests.accounts.factories import UserFactory
from tests.farms.factories import FarmFactory, HarvestLotFactory, MembershipFactory
from tests.marketplace.factories import BuyerFactory, ListingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_as():
    """page_as(user) → a test client signed in as `user`, asking for English pages."""

    def sign_in(user) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return sign_in


def _sell(client, lot, **fields):
    data = {
        "price": "4.80",
        "quantity": "40",
        "minimum_order": "2",
        "available_until": (business_today() + timedelta(days=3)).isoformat(),
        **fields,
    }
    return client.post(f"/lots/{lot.pk}/sell/", data)


def _jpeg() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(data, format="JPEG")
    data.seek(0)
    data.name = "tomato.jpg"
    return data


# Selling


def test_lot_page_offers_to_sell_it(page_as, member, lot):
    response = page_as(member).get(f"/lots/{lot.pk}/")

    assert f'href="/lots/{lot.pk}/sell/"' in response.content.decode()


def test_farmer_sells_from_her_lot_in_kg(page_as, member, lot):
    response = _sell(page_as(member), lot)

    assert response.status_code == 302
    assert response["Location"] == "/listings/mine/"
    listing = Listing.objects.get()
    assert listing.lot == lot
    assert listing.seller == member
    assert listing.price_per_kg == Money("4.80", "CNY")
    assert listing.available_kg == Decimal("40.000")
    assert listing.minimum_order_kg == Decimal("2.000")
    assert listing.status == ListingStatus.ACTIVE
    assert listing.available_until.date() == business_today() + timedelta(days=3)


def test_farmer_counting_in_jin_enters_prices_and_quantities_per_jin(page_as, member, lot):
    member.weight_unit = "jin"
    member.save()
    client = page_as(member)

    _sell(client, lot, price="2.40", quantity="80", minimum_order="4")

    listing = Listing.objects.get()
    assert listing.price_per_kg == Money("4.80", "CNY")
    assert listing.available_kg == Decimal("40.000")
    assert listing.minimum_order_kg == Decimal("2.000")
    page = client.get("/listings/mine/").content.decode()
    assert "¥2.40/jin (斤)" in page
    assert "80 jin (斤) left" in page


def test_sell_form_has_a_camera_input_and_a_date_three_days_ahead(page_as, member, lot):
    page = page_as(member).get(f"/lots/{lot.pk}/sell/").content.decode()

    assert 'accept="image/*"' in page
    assert 'capture="environment"' in page
    assert (business_today() + timedelta(days=3)).isoformat() in page


def test_farmer_sells_with_a_photo_from_her_phone(page_as, member, lot, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    _sell(page_as(member), lot, photo=_jpeg())

    photo = ListingPhoto.objects.get()
    assert photo.listing == Listing.objects.get()
    assert photo.width == 64


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"price": "0"}, "Enter a price per kg above zero"),
        ({"price": "4.805"}, "Enter a price per kg above zero"),
        ({"quantity": "150"}, "The lot has 100.000 kg left to list"),
        ({"minimum_order": "50"}, "is more than the quantity"),
        ({"quantity": "-3"}, "Enter a quantity above zero"),
        ({"price": "abc"}, "Enter a number"),
    ],
)
def test_refused_listing_shows_the_error_and_saves_nothing(page_as, member, lot, fields, message):
    response = _sell(page_as(member), lot, **fields)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Listing.objects.count() == 0


def test_a_file_that_is_not_an_image_is_refused(page_as, member, lot, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    text = io.BytesIO(b"not a photo")
    text.name = "photo.jpg"

    response = _sell(page_as(member), lot, photo=text)

    assert response.status_code == 200
    assert Listing.objects.count() == 0
    assert ListingPhoto.objects.count() == 0


def test_a_photo_the_service_refuses_leaves_no_listing_behind(
    page_as, member, lot, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    gif = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(gif, "GIF")  # an image, but not a format we keep
    gif.seek(0)
    gif.name = "photo.gif"

    response = _sell(page_as(member), lot, photo=gif)

    assert response.status_code == 200
    assert response.context["form"].errors["photo"]
    assert Listing.objects.count() == 0
    assert ListingPhoto.objects.count() == 0


def test_farmer_cannot_sell_another_farmers_lot(page_as, member, other_lot):
    response = _sell(page_as(member), other_lot)

    assert response.status_code == 404
    assert Listing.objects.count() == 0


def test_a_buyer_cannot_sell(page_as, buyer, lot):
    assert _sell(page_as(buyer), lot).status_code == 403
    assert page_as(buyer).get("/listings/mine/").status_code == 403


def test_manager_lists_a_members_lot_and_sees_it(page_as, manager, member, lot):
    client = page_as(manager)

    _sell(client, lot)

    listing = Listing.objects.get()
    assert listing.seller == member
    assert listing.listed_by == manager
    assert f'data-listing="{listing.pk}"' in client.get("/listings/mine/").content.decode()


def test_farmer_pauses_resumes_and_closes_her_listing(page_as, member, lot):
    listing = ListingFactory(lot=lot)
    client = page_as(member)

    client.post(f"/listings/{listing.pk}/pause/")
    listing.refresh_from_db()
    assert listing.status == ListingStatus.PAUSED
    assert "Resume" in client.get("/listings/mine/").content.decode()

    client.post(f"/listings/{listing.pk}/resume/")
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE

    client.post(f"/listings/{listing.pk}/close/")
    listing.refresh_from_db()
    assert listing.status == ListingStatus.CLOSED

    response = client.post(f"/listings/{listing.pk}/resume/", follow=True)
    listing.refresh_from_db()
    assert listing.status == ListingStatus.CLOSED
    assert "not possible in the current state" in response.content.decode()


def test_others_listings_are_not_found_for_changes(page_as, member, other_lot):
    theirs = ListingFactory(lot=other_lot)

    response = page_as(member).post(f"/listings/{theirs.pk}/pause/")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ListingStatus.ACTIVE
    assert (
        f'data-listing="{theirs.pk}"' not in page_as(member).get("/listings/mine/").content.decode()
    )


def test_status_buttons_only_take_post(page_as, member, lot):
    listing = ListingFactory(lot=lot)

    assert page_as(member).get(f"/listings/{listing.pk}/pause/").status_code == 405


# Searching


def test_buyer_finds_produce_near_a_city_with_distance_farm_and_cooperative(
    page_as, buyer, lot, other_lot
):
    near = ListingFactory(lot=lot)  # Shouguang
    farther = ListingFactory(lot=other_lot)  # about 10 km north-west
    far_farm = FarmFactory(longitude=116.40, latitude=39.90)  # Beijing
    ListingFactory(lot=HarvestLotFactory(farm=far_farm, product=lot.product))

    page = page_as(buyer).get("/produce/", {"city": "shouguang", "radius_km": "50"})

    html = page.content.decode()
    assert page.context["page"].paginator.count == 2  # the Shouguang ones only
    assert [listing.pk for listing in page.context["results"]] == [near.pk, farther.pk]
    assert "km away" in html
    assert lot.farm.name in html
    assert lot.farm.cooperative.name in html
    assert "¥4.80/kg" in html


def test_buyer_near_a_city_without_a_distance_finds_everything_nearest_first(page_as, buyer, lot):
    beijing = ListingFactory(
        lot=HarvestLotFactory(farm=FarmFactory(longitude=116.40, latitude=39.90))
    )
    shouguang = ListingFactory(lot=lot)

    page = page_as(buyer).get("/produce/", {"city": "beijing"})

    assert [listing.pk for listing in page.context["results"]] == [beijing.pk, shouguang.pk]
    assert "Any distance" in page.content.decode()


def test_search_by_phone_position_words_grade_certification_and_price(page_as, buyer, lot):
    cheap = ListingFactory(lot=lot, price_per_kg=Money("3.00", "CNY"), product_initials="hg")
    ListingFactory(lot=HarvestLotFactory(farm=lot.farm), price_per_kg=Money("9.00", "CNY"))
    client = page_as(buyer)

    found = client.get(
        "/produce/",
        {
            "q": "黄瓜",
            "grade": lot.grade,
            "certification": "green_food",
            "max_price": "5",
            "lon": "118.80",
            "lat": "36.86",
            "radius_km": "10",
        },
    )

    assert [listing.pk for listing in found.context["results"]] == [cheap.pk]
    assert client.get("/produce/", {"q": "hg"}).context["page"].paginator.count == 1


def test_max_price_is_read_in_the_buyers_unit(page_as, lot):
    buyer = BuyerFactory(weight_unit="jin")
    ListingFactory(lot=lot, price_per_kg=Money("4.80", "CNY"))  # 2.40 per 斤

    client = page_as(buyer)

    assert client.get("/produce/", {"max_price": "2.40"}).context["page"].paginator.count == 1
    assert client.get("/produce/", {"max_price": "2.39"}).context["page"].paginator.count == 0
    assert "¥2.40/jin (斤)" in client.get("/produce/").content.decode()


def test_page_sorts_and_filters_like_the_api(page_as, lot):
    buyer = BuyerFactory(weight_unit="jin")
    older = HarvestLotFactory(farm=lot.farm, harvest_date=lot.harvest_date - timedelta(days=5))
    cheap_old = ListingFactory(lot=older, price_per_kg=Money("3.00", "CNY"))
    dear_fresh = ListingFactory(
        lot=lot, price_per_kg=Money("6.00", "CNY"), available_kg=Decimal("8")
    )
    client = page_as(buyer)

    def found(**params):
        return [listing.pk for listing in client.get("/produce/", params).context["results"]]

    assert found() == [dear_fresh.pk, cheap_old.pk]  # freshest first without a location
    assert found(ordering="price") == [cheap_old.pk, dear_fresh.pk]
    assert found(harvested_since=str(lot.harvest_date)) == [dear_fresh.pk]
    assert found(min_available="20") == [cheap_old.pk]  # 20 斤 = 10 kg; dear_fresh has 8 kg
    assert found(min_available="16") == [dear_fresh.pk, cheap_old.pk]


def test_paused_listings_are_not_found_nor_ordered(page_as, buyer, lot):
    paused = ListingFactory(lot=lot, status=ListingStatus.PAUSED)

    assert page_as(buyer).get("/produce/").context["page"].paginator.count == 0
    assert page_as(buyer).get(f"/produce/{paused.pk}/").status_code == 404


def test_search_pages_results(page_as, buyer, lot):
    for _index in range(21):
        ListingFactory(lot=HarvestLotFactory(farm=lot.farm, quantity_kg=Decimal("60")))

    second = page_as(buyer).get("/produce/", {"grade": "", "page": "2"})

    assert len(second.context["results"]) == 1
    assert "Page 2 of 2" in second.content.decode()


# Ordering


def _order(client, listing, **fields):
    data = {
        "quantity": "5",
        "weight_tolerance_pct": "5",
        "note": "",
        "idempotency_key": "key-1",
        **fields,
    }
    return client.post(f"/produce/{listing.pk}/", data)


def test_buyer_orders_from_a_listing(page_as, buyer, lot):
    listing = ListingFactory(lot=lot)

    response = _order(page_as(buyer), listing, note="Before 9 please")

    order = Order.objects.get()
    assert response["Location"] == f"/orders/{order.pk}/"
    assert order.buyer == buyer
    assert order.buyer_note == "Before 9 please"
    assert order.total == Money("24.00", "CNY")
    listing.refresh_from_db()
    assert listing.available_kg == Decimal("45.000")


def test_order_form_carries_a_fresh_idempotency_key(page_as, buyer, lot):
    listing = ListingFactory(lot=lot)

    first = page_as(buyer).get(f"/produce/{listing.pk}/").context["form"]["idempotency_key"]
    second = page_as(buyer).get(f"/produce/{listing.pk}/").context["form"]["idempotency_key"]

    assert len(first.value()) == 32
    assert first.value() != second.value()


def test_a_double_tap_orders_once(page_as, buyer, lot):
    listing = ListingFactory(lot=lot)
    client = page_as(buyer)

    first = _order(client, listing)
    second = _order(client, listing)

    assert Order.objects.count() == 1
    assert first["Location"] == second["Location"]
    listing.refresh_from_db()
    assert listing.available_kg == Decimal("45.000")


def test_a_buyer_counting_in_jin_orders_jin(page_as, lot):
    buyer = BuyerFactory(weight_unit="jin")
    listing = ListingFactory(lot=lot)

    _order(page_as(buyer), listing, quantity="10")

    assert Order.objects.get().lines.get().quantity_kg == Decimal("5.000")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quantity": "0.5"}, "The minimum order for this listing is"),
        ({"quantity": "80"}, "Not that much is left"),
        ({"quantity": "0"}, "Enter a quantity above zero"),
        ({"weight_tolerance_pct": "80"}, "Enter a weight tolerance between 0 and 50"),
    ],
)
def test_refused_order_shows_the_error_and_reserves_nothing(page_as, buyer, lot, fields, message):
    listing = ListingFactory(lot=lot)

    response = _order(page_as(buyer), listing, **fields)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Order.objects.count() == 0
    listing.refresh_from_db()
    assert listing.available_kg == Decimal("50.000")


def test_a_farmer_sees_a_listing_but_cannot_order(page_as, member, other_lot):
    listing = ListingFactory(lot=other_lot)

    assert page_as(member).get(f"/produce/{listing.pk}/").context["form"] is None
    assert _order(page_as(member), listing).status_code == 403
    assert Order.objects.count() == 0


# Orders


@pytest.fixture
def order(buyer, lot):
    listing = ListingFactory(lot=lot)
    return place_order(buyer=buyer, lines=[(listing.pk, Decimal("10"))])


def test_each_side_sees_the_order_in_its_list(page_as, order, buyer, member, manager):
    assert order in page_as(member).get("/orders/").context["page"].object_list
    assert order in page_as(manager).get("/orders/").context["page"].object_list
    assert order in page_as(buyer).get("/orders/").context["page"].object_list
    assert order not in page_as(buyer).get("/orders/?side=selling").context["page"].object_list
    rows = page_as(member).get("/orders/rows/?side=selling").content.decode()
    assert f'data-order="{order.pk}"' in rows
    assert "<html" not in rows


def test_orders_of_others_are_not_found(page_as, order):
    stranger = UserFactory(role=Role.FARMER)
    other_buyer = BuyerFactory()

    for user in (stranger, other_buyer):
        client = page_as(user)
        assert client.get(f"/orders/{order.pk}/").status_code == 404
        assert client.post(f"/orders/{order.pk}/accept/").status_code == 404
        assert client.post(f"/orders/{order.pk}/cancel/").status_code == 404
        assert order not in client.get("/orders/").context["page"].object_list
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED


def test_order_page_offers_each_side_its_own_steps(page_as, order, buyer, member):
    seller_page = page_as(member).get(f"/orders/{order.pk}/").content.decode()
    buyer_page = page_as(buyer).get(f"/orders/{order.pk}/").content.decode()

    assert f"/orders/{order.pk}/accept/" in seller_page
    assert f"/orders/{order.pk}/reject/" in seller_page
    assert f"/orders/{order.pk}/cancel/" not in seller_page
    assert f"/orders/{order.pk}/cancel/" in buyer_page
    assert f"/orders/{order.pk}/accept/" not in buyer_page


def test_seller_takes_the_order_to_hand_over_and_buyer_completes_it(page_as, order, buyer, member):
    seller, line = page_as(member), order.lines.get()

    seller.post(f"/orders/{order.pk}/accept/")
    seller.post(f"/orders/{order.pk}/ready/")
    seller.post(f"/orders/{order.pk}/hand-over/", {f"packed_{line.pk}": "10.2"})
    page_as(buyer).post(f"/orders/{order.pk}/complete/")

    order.refresh_from_db()
    line.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert line.packed_kg == Decimal("10.200")
    assert order.total == Money("48.96", "CNY")


def test_packed_weight_beyond_tolerance_waits_for_the_buyer(page_as, order, buyer, member):
    seller, line = page_as(member), order.lines.get()
    seller.post(f"/orders/{order.pk}/accept/")
    seller.post(f"/orders/{order.pk}/ready/")

    seller.post(f"/orders/{order.pk}/hand-over/", {f"packed_{line.pk}": "12"})
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_BUYER
    page_as(buyer).post(f"/orders/{order.pk}/confirm-weights/", {"accept": "1"})

    order.refresh_from_db()
    assert order.status == OrderStatus.HANDED_OVER
    assert order.total == Money("57.60", "CNY")


def test_a_bad_packed_weight_is_a_form_error(page_as, order, member):
    seller, line = page_as(member), order.lines.get()
    seller.post(f"/orders/{order.pk}/accept/")
    seller.post(f"/orders/{order.pk}/ready/")

    response = seller.post(f"/orders/{order.pk}/hand-over/", {f"packed_{line.pk}": "-1"})

    assert response.status_code == 400
    assert "greater than or equal to 0.001" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.READY


def test_buyer_cancels_and_the_quantity_goes_back(page_as, order, buyer):
    page_as(buyer).post(f"/orders/{order.pk}/cancel/", {"reason": "Changed plans"})

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.lines.get().listing.available_kg == Decimal("50.000")


def test_accepting_a_cancelled_order_is_refused_with_a_message(page_as, order, buyer, member):
    page_as(buyer).post(f"/orders/{order.pk}/cancel/")

    response = page_as(member).post(f"/orders/{order.pk}/accept/", follow=True)

    assert "not possible in the current state" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_the_buyer_cannot_accept_his_own_order(page_as, order, buyer):
    response = page_as(buyer).post(f"/orders/{order.pk}/accept/", follow=True)

    assert "This step is not yours" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED


def test_seller_rejects_with_a_reason(page_as, order, member):
    page_as(member).post(f"/orders/{order.pk}/reject/", {"reason": "Hail damage"})

    order.refresh_from_db()
    assert order.status == OrderStatus.REJECTED
    assert order.events.last().note == "Hail damage"


def test_manager_of_another_cooperative_does_not_see_the_order(page_as, order, other_cooperative):
    other_manager = UserFactory(role=Role.COOPERATIVE_MANAGER)
    MembershipFactory(user=other_manager, cooperative=other_cooperative, is_manager=True)

    assert page_as(other_manager).get(f"/orders/{order.pk}/").status_code == 404


# Menus


def test_menus_lead_each_role_to_its_pages(page_as, member, buyer):
    farmer_page = page_as(member).get("/workspace/farmer/").content.decode()
    buyer_page = page_as(buyer).get("/workspace/buyer/").content.decode()

    assert 'href="/listings/mine/"' in farmer_page
    assert 'href="/orders/"' in farmer_page
    assert 'href="/produce/"' in buyer_page
    assert 'href="/orders/"' in buyer_page


# Editing a listing


def test_seller_edits_price_quantity_and_adds_a_photo_in_her_unit(page_as, lot):
    lot.farm.farmer.weight_unit = "jin"
    lot.farm.farmer.save(update_fields=["weight_unit"])
    listing = ListingFactory(lot=lot, price_per_kg=Money("4.80", "CNY"))
    client = page_as(lot.farm.farmer)

    form = client.get(f"/listings/{listing.pk}/edit/").context["form"]
    assert form.initial["price"] == Decimal("2.40")  # per 斤
    assert form.initial["quantity"] == Decimal("100.000")  # 50 kg
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(buffer, "JPEG")
    buffer.seek(0)
    buffer.name = "cucumber.jpg"
    response = client.post(
        f"/listings/{listing.pk}/edit/",
        {
            "price": "2.50",
            "quantity": "60",
            "minimum_order": "2",
            "available_until": str(form.initial["available_until"]),
            "photo": buffer,
        },
    )

    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.price_per_kg == Money("5.00", "CNY")
    assert listing.available_kg == Decimal("30.000")
    assert listing.minimum_order_kg == Decimal("1.000")
    assert listing.photos.count() == 1


def test_another_farmers_listing_cannot_be_edited(page_as, lot, other_lot):
    listing = ListingFactory(lot=lot)
    stranger = page_as(other_lot.farm.farmer)  # a farmer of another co-operative

    assert stranger.get(f"/listings/{listing.pk}/edit/").status_code == 404
    assert stranger.post(f"/listings/{listing.pk}/edit/", {"price": "1"}).status_code == 404
    listing.refresh_from_db()
    assert listing.price_per_kg == Money("4.80", "CNY")


def test_bad_price_on_edit_is_a_field_error_and_changes_nothing(page_as, lot):
    listing = ListingFactory(lot=lot)
    client = page_as(lot.farm.farmer)
    initial = client.get(f"/listings/{listing.pk}/edit/").context["form"].initial

    response = client.post(
        f"/listings/{listing.pk}/edit/",
        {**{k: str(v) for k, v in initial.items()}, "price": "1.234"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["price"]
    listing.refresh_from_db()
    assert listing.price_per_kg == Money("4.80", "CNY")
