"""Buyers find listings on sale by product, words, grade, price, quantity, freshness and distance."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from moneyed import Money

from common.dates import business_today
from farms.choices import Grade, ProductCategory
from marketplace.choices import ListingStatus
from marketplace.models import Listing
from marketplace.selectors.listings import listings_for_buyers, listings_named, listings_near
from tests.accounts.factories import UserFactory
from tests.farms.factories import FarmFactory, HarvestLotFactory, ProductFactory
from tests.marketplace.factories import ListingFactory

URL = "/api/listings/"
# Shouguang (寿光), Weifang (潍坊, ~50 km east), Jinan (济南, ~190 km west).
SHOUGUANG = (118.79, 36.86)
WEIFANG = (119.16, 36.71)
JINAN = (117.00, 36.65)


def _listing_at(longitude, latitude, **kwargs):
    farm = FarmFactory(longitude=longitude, latitude=latitude)
    product = kwargs.pop("product", None) or ProductFactory()
    lot = HarvestLotFactory(
        farm=farm,
        product=product,
        grade=kwargs.pop("grade", Grade.FIRST),
        harvest_date=kwargs.pop("harvest_date", business_today() - timedelta(days=1)),
        certifications=kwargs.pop("certifications", []),
    )
    return ListingFactory(lot=lot, **kwargs)


def _ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_only_listings_on_sale_now_with_a_minimum_order_left_are_found(db):
    now = timezone.now()
    on_sale = _listing_at(*SHOUGUANG)
    _listing_at(*SHOUGUANG, status=ListingStatus.PAUSED)
    _listing_at(*SHOUGUANG, status=ListingStatus.DRAFT)
    _listing_at(*SHOUGUANG, status=ListingStatus.CLOSED)
    _listing_at(*SHOUGUANG, available_from=now + timedelta(hours=2))
    _listing_at(
        *SHOUGUANG,
        available_from=now - timedelta(days=2),
        available_until=now - timedelta(minutes=1),
    )
    _listing_at(*SHOUGUANG, available_kg=Decimal("0.500"), minimum_order_kg=Decimal("1"))

    assert list(listings_for_buyers()) == [on_sale]


def test_near_keeps_those_within_the_radius_nearest_first_with_distance(db):
    weifang = _listing_at(*WEIFANG)
    shouguang = _listing_at(*SHOUGUANG)
    _listing_at(*JINAN)

    found = list(
        listings_near(
            listings_for_buyers(), point=Point(*SHOUGUANG, srid=4326), radius_km=60
        ).order_by("distance")
    )

    assert found == [shouguang, weifang]
    assert found[0].distance.km < 1
    assert 30 < found[1].distance.km < 50


def test_api_search_near_sorts_by_distance_and_shows_it(api_as, buyer):
    jinan = _listing_at(*JINAN)
    weifang = _listing_at(*WEIFANG)
    shouguang = _listing_at(*SHOUGUANG)

    response = api_as(buyer).get(URL, {"near": "118.79,36.86", "radius_km": "300"})

    assert _ids(response) == [shouguang.pk, weifang.pk, jinan.pk]
    distances = [Decimal(row["distance_km"]) for row in response.json()["results"]]
    assert distances == sorted(distances)
    assert Decimal("150") < distances[2] < Decimal("200")


def test_api_near_without_a_radius_finds_every_listing_nearest_first(api_as, buyer):
    jinan = _listing_at(*JINAN)
    far = _listing_at(109.43, 35.76)  # Luochuan, about 830 km west
    shouguang = _listing_at(*SHOUGUANG)

    response = api_as(buyer).get(URL, {"near": "118.79,36.86"})

    assert _ids(response) == [shouguang.pk, jinan.pk, far.pk]
    assert Decimal(response.json()["results"][2]["distance_km"]) > Decimal("800")


def test_api_radius_is_a_filter_the_buyer_chooses(api_as, buyer):
    shouguang = _listing_at(*SHOUGUANG)
    _listing_at(*JINAN)

    response = api_as(buyer).get(URL, {"near": "118.79,36.86", "radius_km": "50"})

    assert _ids(response) == [shouguang.pk]


def test_sorting_by_distance_without_a_location_is_refused(api_as, buyer):
    response = api_as(buyer).get(URL, {"ordering": "distance"})

    assert response.status_code == 400
    assert "ordering" in response.json()


def test_filters_product_category_grade_certification(api_as, buyer):
    cucumber = ProductFactory(
        code="VEG-CUCUMBER", name_zh="黄瓜", name_en="Cucumber", category="fruit_vegetable"
    )
    apple = ProductFactory(
        code="FRUIT-APPLE", name_zh="苹果", name_en="Apple", category=ProductCategory.POME_FRUIT
    )
    green_cucumber = _listing_at(*SHOUGUANG, product=cucumber, certifications=["green_food"])
    special_cucumber = _listing_at(*SHOUGUANG, product=cucumber, grade=Grade.SPECIAL)
    apple_listing = _listing_at(*SHOUGUANG, product=apple)
    client = api_as(buyer)

    assert set(_ids(client.get(URL, {"product": "veg-cucumber"}))) == {
        green_cucumber.pk,
        special_cucumber.pk,
    }
    assert _ids(client.get(URL, {"category": "pome_fruit"})) == [apple_listing.pk]
    assert _ids(client.get(URL, {"grade": "special"})) == [special_cucumber.pk]
    assert _ids(client.get(URL, {"certification": "green_food"})) == [green_cucumber.pk]
    assert client.get(URL, {"grade": "excellent"}).status_code == 400


def test_words_match_chinese_english_names_and_pinyin_initials(db):
    cucumber = ProductFactory(name_zh="黄瓜", name_en="Cucumber")
    apple = ProductFactory(name_zh="红富士苹果", name_en="Fuji apple")
    cucumber_listing = _listing_at(*SHOUGUANG, product=cucumber, product_initials="hg")
    apple_listing = _listing_at(*SHOUGUANG, product=apple, product_initials="hfspg")
    on_sale = listings_for_buyers()

    assert list(listings_named(on_sale, "黄瓜")) == [cucumber_listing]
    assert list(listings_named(on_sale, "APPLE")) == [apple_listing]
    assert list(listings_named(on_sale, "fuji apple")) == [apple_listing]
    assert list(listings_named(on_sale, "HG")) == [cucumber_listing]
    assert list(listings_named(on_sale, "苹果 banana")) == []


def test_price_range_per_kg_or_per_jin(api_as, buyer):
    cheap = _listing_at(*SHOUGUANG, price_per_kg=Money("3.00", "CNY"))
    dear = _listing_at(*SHOUGUANG, price_per_kg=Money("9.00", "CNY"))
    client = api_as(buyer)

    assert _ids(client.get(URL, {"price_max": "5"})) == [cheap.pk]
    assert _ids(client.get(URL, {"price_min": "5"})) == [dear.pk]
    # 2 yuan per jin is 4 yuan per kg.
    assert _ids(client.get(URL, {"price_max": "2", "price_unit": "jin"})) == [cheap.pk]
    assert _ids(client.get(URL, {"ordering": "-price"})) == [dear.pk, cheap.pk]
    assert _ids(client.get(URL, {"ordering": "price"})) == [cheap.pk, dear.pk]


def test_minimum_available_and_harvested_since_and_freshness_order(api_as, buyer):
    today = business_today()
    old = _listing_at(*SHOUGUANG, harvest_date=today - timedelta(days=6))
    fresh = _listing_at(*SHOUGUANG, harvest_date=today, available_kg=Decimal("10"))
    client = api_as(buyer)

    assert _ids(client.get(URL, {"min_available_kg": "20"})) == [old.pk]
    since = (today - timedelta(days=2)).isoformat()
    assert _ids(client.get(URL, {"harvested_since": since})) == [fresh.pk]
    assert _ids(client.get(URL)) == [fresh.pk, old.pk]


def test_result_shows_what_a_buyer_needs(api_as, buyer):
    listing = _listing_at(*SHOUGUANG, certifications=["organic"])
    buyer.weight_unit = "jin"
    buyer.save(update_fields=["weight_unit"])

    response = api_as(buyer).get(URL, {"near": "118.79,36.86"}, HTTP_ACCEPT_LANGUAGE="en")
    row = response.json()["results"][0]

    assert row["id"] == listing.pk
    assert row["price_per_kg"] == "4.80"
    assert row["price"] == "2.40"
    assert row["price_unit"] == "jin"
    assert row["available_kg"] == "50.000"
    assert row["available"] == "100.000"
    assert row["grade_label"] == "Grade 1"
    assert row["certifications"] == [{"value": "organic", "label": "Organic"}]
    assert row["farm_name"] == listing.lot.farm.name
    assert row["cooperative_name"] == listing.lot.farm.cooperative.name
    assert row["thumbnail_url"] is None
    assert Decimal(row["distance_km"]) < Decimal("1")


@pytest.mark.parametrize("viewer", ["buyer", "farmer"])
def test_a_result_reads_as_the_listing_itself_does(api_as, buyer, viewer):
    """The search page is written from plain values (search_results_data), the listing's own
    page by ListingOutputSerializer: each field the same, for the rounded and the exact point."""
    listing = _listing_at(118.79437, 36.86218, certifications=["organic"], notes="早上取货")
    user = buyer if viewer == "buyer" else listing.lot.farm.farmer
    user.weight_unit = "jin"
    user.save(update_fields=["weight_unit"])
    client = api_as(user)

    [row] = client.get(URL, {"near": "118.70,36.80"}, HTTP_ACCEPT_LANGUAGE="zh-hans").json()[
        "results"
    ]
    own = client.get(f"{URL}{listing.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()

    assert row.pop("distance_km") is not None
    own.pop("photos")
    assert own.pop("distance_km") is None  # no `near` on a listing's own page
    assert row == own


def test_pages_of_20(api_as, buyer):
    farm = FarmFactory()
    for _ in range(23):
        ListingFactory(lot=HarvestLotFactory(farm=farm))

    body = api_as(buyer).get(URL).json()

    assert body["count"] == 23
    assert len(body["results"]) == 20
    assert body["next"]


def test_search_list_queries_do_not_grow_with_results(api_as, buyer, django_assert_max_num_queries):
    for n in range(25):
        _listing_at(118.79 + n * 0.01, 36.86)
    client = api_as(buyer)

    with django_assert_max_num_queries(3):  # count, page (photos in it); no query per row
        response = client.get(URL, {"near": "118.79,36.86", "q": "test", "ordering": "distance"})

    assert len(_ids(response)) == 20


@pytest.mark.parametrize("role", ["farmer", "cooperative_manager", "admin", "courier"])
def test_everyone_signed_in_may_search(api_as, db, role):
    listing = _listing_at(*SHOUGUANG)

    assert _ids(api_as(UserFactory(role=role)).get(URL)) == [listing.pk]


def test_anonymous_cannot_search(api_client, db):
    assert api_client.get(URL).status_code in (401, 403)


def test_listing_of_the_past_window_is_not_found_even_if_still_active(db):
    listing = _listing_at(*SHOUGUANG)
    Listing.objects.filter(pk=listing.pk).update(
        available_from=timezone.now() - timedelta(days=5),
        available_until=timezone.now() - timedelta(days=1),
    )

    assert list(listings_for_buyers()) == []
