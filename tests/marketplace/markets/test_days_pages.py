"""Business days for the market's operators: the list, a day's report with each trader's
statement, closing a day early (supervisors only), and the same through the API."""

import threading

import pytest
from django.test import Client
from django.urls import reverse

from common.dates import business_today
from marketplace.exceptions import BusinessDayClosed
from marketplace.markets.choices import DayStatus
from marketplace.markets.end_of_day import close_business_day
from marketplace.models import MarketDay

pytestmark = pytest.mark.django_db

LIST = "/market/days/"


def report_url(day=None) -> str:
    return f"/market/days/{(day or business_today()).isoformat()}/"


def close_url(day=None) -> str:
    return f"{report_url(day)}close/"


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def closed_day(settle, market, commission):
    """Today: one trade (98 kg × ¥1.20), then end of day."""
    settle("t1")
    close_business_day(market=market, business_date=business_today())
    return business_today()


@pytest.fixture
def open_day(settle, commission):
    settle("t1")
    return business_today()


def test_urls_have_their_names():
    assert reverse("markets:day_list") == LIST
    assert reverse("markets:day_report", args=[business_today().isoformat()]) == report_url()
    assert reverse("markets:day_close", args=[business_today().isoformat()]) == close_url()


# --- Pages ---------------------------------------------------------------------------------


def test_operator_sees_the_days_with_their_report_figures(operator, closed_day):
    response = signed_in(operator).get(LIST)

    assert response.status_code == 200
    page = response.content.decode()
    assert closed_day.isoformat() in page
    assert "Closed" in page
    assert 'data-figure="trades">1' in page
    assert "98.000 kg" in page
    assert "¥117.60" in page  # turnover
    assert "¥3.53" in page  # commission: ¥1.18 from the buyer, ¥2.35 from the seller
    assert "¥10000.00" in page  # the buyer's card was topped up today
    assert "¥115.25" in page  # the seller's payout
    assert f'href="{report_url()}"' in page


def test_an_open_day_shows_no_figures_yet(operator, open_day):
    page = signed_in(operator).get(LIST).content.decode()

    assert "Open" in page
    assert "The figures appear when the day is closed." in page


def test_day_report_lists_each_traders_statement(operator, closed_day, seller_trader, buyer_trader):
    response = signed_in(operator).get(report_url())

    assert response.status_code == 200
    page = response.content.decode()
    assert "¥117.60" in page
    assert seller_trader.name in page
    assert buyer_trader.name in page
    statements = {statement.trader_id: statement for statement in response.context["statements"]}
    assert set(statements) == {seller_trader.pk, buyer_trader.pk}
    assert str(statements[buyer_trader.pk].closing_balance.amount) == "9881.22"
    assert f'data-trader="{buyer_trader.pk}"' in page
    assert "¥9881.22" in page
    assert "Close the day now" not in page  # closed already


def test_another_markets_operator_finds_no_such_day(other_operator, closed_day):
    client = signed_in(other_operator)

    assert client.get(report_url()).status_code == 404
    assert client.post(close_url(), {"confirm": "on"}).status_code == 404
    page = client.get(LIST).content.decode()
    assert "No business days yet" in page
    assert closed_day.isoformat() not in page


def test_a_date_that_is_no_business_day_is_not_found(operator, closed_day):
    client = signed_in(operator)

    assert client.get("/market/days/2026-02-30/").status_code == 404
    assert client.get("/market/days/2001-01-01/").status_code == 404


def test_an_operator_of_no_market_finds_nothing(market_operator):
    assert signed_in(market_operator).get(LIST).status_code == 404


def test_other_roles_are_refused(farmer, closed_day):
    client = signed_in(farmer)

    assert client.get(LIST).status_code == 403
    assert client.get(report_url()).status_code == 403
    assert client.post(close_url(), {"confirm": "on"}).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(closed_day):
    for url in (LIST, report_url()):
        response = Client().get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:sign_in"))
    assert Client().post(close_url(), {"confirm": "on"}).status_code == 302


# --- Closing a day early -------------------------------------------------------------------


def test_only_a_supervisor_sees_the_close_button(operator, supervisor, open_day):
    assert "Close the day now" in signed_in(supervisor).get(report_url()).content.decode()
    assert "Close the day now" not in signed_in(operator).get(report_url()).content.decode()


def test_an_operator_who_is_no_supervisor_cannot_close_the_day(operator, market, open_day):
    response = signed_in(operator).post(close_url(), {"confirm": "on"})

    assert response.status_code == 403
    assert MarketDay.objects.get(market=market, business_date=open_day).status == DayStatus.OPEN


def test_closing_needs_the_box_ticked(supervisor, market, open_day):
    response = signed_in(supervisor).post(close_url(), {})

    assert response.status_code == 400
    assert "Tick the box to confirm." in response.content.decode()
    assert MarketDay.objects.get(market=market, business_date=open_day).status == DayStatus.OPEN


def test_supervisor_closes_the_day_trades_stop_and_the_rest_is_queued(
    supervisor, market, open_day, settle, django_capture_on_commit_callbacks
):
    client = signed_in(supervisor)

    with django_capture_on_commit_callbacks() as queued:
        response = client.post(close_url(), {"confirm": "on"}, follow=True)

    assert response.redirect_chain[-1][0] == report_url()
    page = response.content.decode()
    assert "is closed to trades" in page
    assert "being written in the background" in page
    assert "Closing" in page
    assert len(queued) == 1  # the rest of end of day, for a worker
    assert MarketDay.objects.get(market=market, business_date=open_day).status == DayStatus.CLOSING
    with pytest.raises(BusinessDayClosed):
        settle("t2")


def test_closing_a_closed_day_again_says_so(
    supervisor, closed_day, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = signed_in(supervisor).post(close_url(), {"confirm": "on"}, follow=True)

    assert "is already closed" in response.content.decode()
    assert queued == []


def test_close_is_a_post(supervisor, open_day):
    assert signed_in(supervisor).get(close_url()).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_the_queued_end_of_day_finishes_the_day_in_a_worker(
    celery_worker_live, supervisor, market, open_day
):
    signed_in(supervisor).post(close_url(), {"confirm": "on"})

    day = MarketDay.objects.get(market=market, business_date=open_day)
    for _ in range(600):  # until the worker is done (it runs in a thread of this process)
        day.refresh_from_db()
        if day.status == DayStatus.CLOSED:
            break
        threading.Event().wait(0.1)
    assert day.status == DayStatus.CLOSED
    page = signed_in(supervisor).get(report_url()).content.decode()
    assert "¥115.25" in page  # the seller's payout, made in the supervisor's name
    assert "Close the day now" not in page


# --- API -----------------------------------------------------------------------------------


API = "/api/market/days/"


def test_api_lists_the_operators_days_with_their_reports(api_as, operator, closed_day):
    response = api_as(operator).get(API)

    assert response.status_code == 200
    (day,) = response.json()["results"]
    assert day["business_date"] == closed_day.isoformat()
    assert day["status"] == "closed"
    assert day["currency"] == "CNY"
    report = day["report"]
    assert report["trade_count"] == 1
    assert report["volume_kg"] == "98.000"
    assert report["turnover"] == "117.60"
    assert report["commission"] == "3.53"
    assert report["top_ups"] == "10000.00"
    assert report["payouts"] == "115.25"


def test_api_day_has_each_traders_statement(api_as, operator, closed_day, seller_trader):
    response = api_as(operator).get(f"{API}{closed_day.isoformat()}/")

    assert response.status_code == 200
    body = response.json()
    statements = {row["trader"]: row for row in body["statements"]}
    seller = statements[seller_trader.pk]
    assert seller["trader_kind"] == "seller"
    assert (seller["opening_balance"], seller["closing_balance"]) == ("0.00", "0.00")
    assert seller["trade_count"] == 1
    assert seller["line_count"] == 2  # the trade and the payout


def test_api_open_day_has_no_report_yet(api_as, operator, open_day):
    (day,) = api_as(operator).get(API).json()["results"]

    assert day["status"] == "open"
    assert day["report"] is None


def test_api_another_markets_day_is_not_found(api_as, other_operator, closed_day):
    client = api_as(other_operator)

    assert client.get(f"{API}{closed_day.isoformat()}/").status_code == 404
    assert client.get(API).json()["results"] == []


def test_api_bad_dates_are_not_found(api_as, operator, closed_day):
    assert api_as(operator).get(f"{API}2026-02-30/").status_code == 404
    assert api_as(operator).get(f"{API}yesterday/").status_code == 404


def test_api_refuses_other_roles_and_anonymous_callers(api_as, api_client, farmer, closed_day):
    assert api_client.get(API).status_code == 401
    client = api_as(farmer)
    assert client.get(API).status_code == 403
    assert client.get(f"{API}{closed_day.isoformat()}/").status_code == 403
