"""Who may open the tower (page and API), what each one's API answers, and bad input."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from accounts.choices import Role
from accounts.navigation import navigation_for
from common.dates import business_today
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

OUTSIDERS = [
    role for role in Role.values if role not in (Role.REGULATOR, Role.ADMIN)
]  # every role but the tower's two
SCREEN_API = "/api/tower/screen/"
TRENDS_API = "/api/tower/trends/"


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", OUTSIDERS)
def test_every_other_role_is_refused_the_page_the_api_and_the_digest(role, api_as):
    user = UserFactory(role=role)
    yesterday = (business_today() - timedelta(days=1)).isoformat()

    assert signed_in(user).get("/tower/").status_code == 403
    assert signed_in(user).get(f"/tower/digest/{yesterday}/").status_code == 403
    assert api_as(user).get(SCREEN_API).status_code == 403
    assert api_as(user).get(TRENDS_API).status_code == 403


def test_a_stranger_is_sent_to_sign_in_and_refused_by_the_api(api_client):
    page = Client().get("/tower/")

    assert page.status_code == 302
    assert "/sign-in/" in page["Location"]
    assert api_client.get(SCREEN_API).status_code in (401, 403)


@pytest.mark.parametrize("role", [Role.REGULATOR, Role.ADMIN])
def test_the_regulator_and_the_admin_open_the_screen_from_their_menu(role):
    user = UserFactory(role=role)

    page = signed_in(user).get("/tower/")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="tower-map"' in html
    assert '<section id="tower-warnings"' in html
    assert "No open risk warnings." in html
    assert "Whole country" in html
    assert reverse("controltower:screen") in [reverse(e.url_name) for e in navigation_for(user)]
    workspace = signed_in(user).get(reverse("accounts:workspace"), follow=True)
    assert workspace.status_code == 200
    assert 'href="/tower/"' in workspace.content.decode()


def test_a_regional_regulator_sees_her_areas_name(beijing_regulator):
    html = signed_in(beijing_regulator).get("/tower/").content.decode()

    assert "北京市" in html
    assert "Whole country" not in html


def test_the_screen_api_answers_within_the_regulators_area(world, api_as, guangzhou_regulator):
    answer = api_as(guangzhou_regulator).get(SCREEN_API)

    assert answer.status_code == 200
    body = answer.json()
    assert body["scope"] == {"is_whole_country": False, "area_name": "广州市"}
    assert [m["name"] for m in body["markets"]] == ["广州江南"]
    assert body["markets"][0]["location"] == [113.26, 23.13]
    assert [w["name"] for w in body["warehouses"]] == ["gz-tianhe 前置仓"]
    assert [s["code"] for s in body["shipments"]] == [world["guangzhou_shipment"].code]
    assert body["shipments"][0]["state"] == "ok"
    assert body["counters"]["trades"] == 0
    assert body["counters"]["on_time_percent"] == "100.0"
    assert body["counters"]["open_recalls"] == 0


def test_the_admins_screen_api_answers_for_the_whole_country(world, api_as, admin_user):
    body = api_as(admin_user).get(SCREEN_API).json()

    assert body["scope"]["is_whole_country"] is True
    assert {m["name"] for m in body["markets"]} == {"北京新发地", "广州江南"}
    assert body["counters"]["trades"] == 2
    assert body["counters"]["tonnes"] == "0.148"
    assert body["counters"]["open_excursions"] == 1
    assert body["counters"]["lots_held_at_gates"] == 1


def test_the_trends_api_gives_thirty_days(world, api_as, beijing_regulator):
    body = api_as(beijing_regulator).get(TRENDS_API).json()

    assert len(body["days"]) == 30
    assert body["days"][-1] == business_today().isoformat()
    assert body["volume_kg"][-1] == "148.000"
    assert body["on_time_percent"][-1] == "50.0"
    assert body["excursion_minutes"][-1] == 90


def test_the_trends_api_ends_on_the_day_asked(world, api_as, regulator):
    day = business_today() - timedelta(days=3)

    body = api_as(regulator).get(TRENDS_API, {"day": day.isoformat()}).json()

    assert body["days"][-1] == day.isoformat()
    assert body["volume_kg"][-1] == "0.000"


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("yesterday", "Date has wrong format"),
        ("2026-02-30", "Date has wrong format"),
        ("2099-01-01", "The trends cannot end in the future."),
    ],
)
def test_the_trends_api_refuses_a_bad_day_with_a_field_error(api_as, regulator, day, message):
    client = api_as(regulator)

    answer = client.get(TRENDS_API, {"day": day}, HTTP_ACCEPT_LANGUAGE="en")

    assert answer.status_code == 400
    assert message in str(answer.json()["day"])


def test_the_trends_api_speaks_chinese_by_default(api_as, regulator):
    answer = api_as(regulator).get(TRENDS_API, {"day": "2099-01-01"})

    assert answer.json()["day"] == ["趋势的最后一天不能在未来。"]
