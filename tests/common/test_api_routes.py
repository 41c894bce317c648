"""Every API route with an id in its path takes only that form of id; anything else is 404."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.choices import Role
from tests.accounts.factories import UserFactory

# What a client may put where an id belongs: words, lists, decimals, negatives, a NUL byte.
MALFORMED_IDS = ["true", "null,null", "1.5", "-1", "%00"]

PARAMETER = re.compile(r"\(\?P<(?P<group>\w+)>[^)]*\)|<(?:\w+:)?(?P<name>\w+)>")
# Path values that are not database ids, each with a well-formed example.
OTHER_VALUES = {"code": "VEG-CUCUMBER", "business_date": "2026-01-01", "kind": "loading"}


def _is_id(name: str) -> bool:
    return name == "pk" or name == "id" or name.endswith("_id")


def _parameter_names(route: str) -> list[str]:
    return [match["group"] or match["name"] for match in PARAMETER.finditer(route)]


def _with_id(route: str, value: str) -> str:
    """The route as a URL, with `value` for its ids and a well-formed value elsewhere."""

    def fill(match: re.Match) -> str:
        name = match["group"] or match["name"]
        return value if _is_id(name) else OTHER_VALUES.get(name, "sample")

    return "/" + PARAMETER.sub(fill, route)


def _api_routes_with_ids() -> list[str]:
    """The URL patterns under /api/ that take a database id from the path, as strings."""
    patterns = []

    def walk(resolver: URLResolver, prefix: str) -> None:
        for entry in resolver.url_patterns:
            pattern = prefix + str(entry.pattern).removeprefix("^").removesuffix("$")
            if isinstance(entry, URLResolver):
                walk(entry, pattern)
            elif isinstance(entry, URLPattern):
                patterns.append(pattern)

    walk(get_resolver(), "")
    return [
        pattern
        for pattern in patterns
        if pattern.startswith("api/") and any(map(_is_id, _parameter_names(pattern)))
    ]


DETAIL_ROUTES = _api_routes_with_ids()


def test_the_api_has_detail_routes_to_check():
    # A guard for the walk above: if it found nothing, the tests below would prove nothing.
    assert "api/orders/(?P<pk>[0-9]+)/accept/" in DETAIL_ROUTES
    assert "api/delivery/orders/<int:pk>/" in DETAIL_ROUTES
    assert len(DETAIL_ROUTES) > 40


@pytest.mark.django_db
@pytest.mark.parametrize("route", DETAIL_ROUTES)
def test_a_malformed_id_is_not_found(route):
    signed_in = APIClient(raise_request_exception=False)
    signed_in.force_authenticate(UserFactory(role=Role.ADMIN))
    anonymous = APIClient(raise_request_exception=False)

    for malformed in MALFORMED_IDS:
        url = _with_id(route, malformed)
        for client in (signed_in, anonymous):
            for method in (client.get, client.post):
                assert method(url).status_code == 404, f"{method.__name__.upper()} {url}"


@pytest.mark.django_db
def test_a_well_formed_id_still_reaches_the_view(api_as, buyer):
    # The other side of the rule: digits match, and the view answers its own 404.
    response = api_as(buyer).get(_with_id("api/orders/(?P<pk>[0-9]+)/", "999999"))

    assert response.status_code == 404
    assert "detail" in response.json()
