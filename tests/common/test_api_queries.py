"""Query parameters the schema documents are checked: a value outside it is 400, naming it."""

import pytest

from tests.farms.factories import FarmFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page_size", ["null", "0", "-1", "2.5", "1000000000"])
def test_a_page_size_outside_1_to_200_is_refused(api_as, buyer, page_size):
    response = api_as(buyer).get("/api/products/", {"page_size": page_size})

    assert response.status_code == 400
    assert list(response.json()) == ["page_size"]


@pytest.mark.parametrize("page", ["null", "0", "last"])
def test_a_page_that_is_not_a_positive_number_is_refused(api_as, buyer, page):
    for url in ("/api/products/", "/api/listings/"):  # the listing search pages on its own
        response = api_as(buyer).get(url, {"page": page})

        assert response.status_code == 400, url
        assert list(response.json()) == ["page"]


def test_a_page_size_in_range_and_an_empty_one_are_served(api_as, buyer):
    assert api_as(buyer).get("/api/products/", {"page_size": "200"}).status_code == 200
    assert api_as(buyer).get("/api/products/", {"page_size": ""}).status_code == 200


@pytest.mark.parametrize(
    ("url", "parameter", "value"),
    [
        ("/api/farms/", "farmer", "1.5"),
        ("/api/farms/", "cooperative", "true"),
        ("/api/lots/", "farm", "1.5"),
        ("/api/listings/mine/", "lot", "null"),
        ("/api/products/", "chilling_sensitive", "-3797"),
        ("/api/products/", "category", "nonsense"),
        ("/api/notifications/", "unread", "null"),
        ("/api/coldchain/alerts/", "store", "null"),
        ("/api/coldchain/alerts/", "open", "maybe"),
        ("/api/delivery/warehouse/stock/", "warehouse", "null"),
    ],
)
def test_a_filter_value_outside_its_type_is_refused(api_as, admin_user, url, parameter, value):
    response = api_as(admin_user).get(url, {parameter: value})

    assert response.status_code == 400
    assert list(response.json()) == [parameter]


def test_an_id_filter_still_filters(api_as, admin_user):
    farm = FarmFactory()
    FarmFactory()

    response = api_as(admin_user).get("/api/farms/", {"farmer": str(farm.farmer_id)})

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [farm.pk]
