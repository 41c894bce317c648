"""Delivery's metrics move when dispatch works: offers made and closed, dispatch timed,
consumers' orders; and an offer expired by a real Celery worker is counted in the metrics a
separate web process serves (prometheus_client's multiprocess mode)."""

import os
import time
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from delivery import tasks
from delivery.models import OfferStatus, TaskOffer
from delivery.services import dispatch, offers
from tests.delivery.dispatch_factories import WAREHOUSE_AT, courier_near, packed_order
from tests.delivery.factories import front_warehouse
from tests.delivery.shop_factories import order_for, receive

TOKEN = "scrape-me-0123456789"


@pytest.fixture
def warehouse(db):
    return front_warehouse("wangjing", *WAREHOUSE_AT, half_side=0.08)


@pytest.fixture
def offered(warehouse, consumer):
    """Two couriers near; a packed order's task offered to the nearer."""
    first = courier_near(north_km=0.4)
    second = courier_near(north_km=-0.8)
    order = packed_order(warehouse, consumer, east_km=2)
    task = dispatch.dispatch_order(order_id=order.pk)
    offer = TaskOffer.objects.get(task=task, status=OfferStatus.PENDING)
    return {"first": first, "second": second, "task": task, "offer": offer}


@pytest.mark.django_db
def test_dispatching_counts_the_offer_and_times_the_choice(
    warehouse, consumer, metrics, django_capture_on_commit_callbacks
):
    courier_near(north_km=0.4)
    order = packed_order(warehouse, consumer, east_km=2)
    made = metrics.value("freshchain_offers_made_total")
    timed = metrics.value("freshchain_dispatch_seconds_count")

    with django_capture_on_commit_callbacks(execute=True):
        dispatch.dispatch_order(order_id=order.pk)

    assert metrics.value("freshchain_offers_made_total") == made + 1
    assert metrics.value("freshchain_dispatch_seconds_count") == timed + 1


@pytest.mark.django_db
def test_answers_are_counted_by_how_the_offer_ended(
    offered, metrics, django_capture_on_commit_callbacks
):
    accepted = metrics.value("freshchain_offers_closed_total", status="accepted")
    declined = metrics.value("freshchain_offers_closed_total", status="declined")

    with django_capture_on_commit_callbacks(execute=True):
        offers.accept_offer(courier=offered["first"], offer_id=offered["offer"].pk)

    assert metrics.value("freshchain_offers_closed_total", status="accepted") == accepted + 1
    assert metrics.value("freshchain_offers_closed_total", status="declined") == declined


@pytest.mark.django_db
def test_a_refused_answer_counts_nothing(offered, metrics, django_capture_on_commit_callbacks):
    offers.decline_offer(courier=offered["first"], offer_id=offered["offer"].pk)
    declined = metrics.value("freshchain_offers_closed_total", status="declined")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Exception):  # noqa: B017, PT011
        offers.decline_offer(courier=offered["second"], offer_id=offered["offer"].pk)

    assert metrics.value("freshchain_offers_closed_total", status="declined") == declined


@pytest.fixture
def shop(chaoyang, spinach, funded_consumer, monkeypatch):
    """Spinach in stock at Chaoyang; dispatch messages are not sent (dispatch is not tested)."""
    monkeypatch.setattr(tasks.dispatch_order, "apply_async", lambda *args, **kwargs: None)
    monkeypatch.setattr(tasks.dispatch_order, "delay", lambda *args: None)
    receive(chaoyang, spinach, "20", harvested_days_ago=1)
    return {"spinach": spinach, "consumer": funded_consumer}


@pytest.mark.django_db
def test_a_consumers_order_is_counted_once(shop, metrics, django_capture_on_commit_callbacks):
    before = metrics.value("freshchain_delivery_orders_placed_total")

    with django_capture_on_commit_callbacks(execute=True):
        order_for(shop["consumer"], (shop["spinach"].pk, "1.5"), key="k1")
        order_for(shop["consumer"], (shop["spinach"].pk, "1.5"), key="k1")  # a retry

    assert metrics.value("freshchain_delivery_orders_placed_total") == before + 1


# --- Across processes: counted in a worker, served by the web ------------------------------------


def scrape(url: str) -> str:
    request = urllib.request.Request(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read().decode()


def sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for each in family.samples:
            if each.name == name and all(each.labels.get(k) == v for k, v in labels.items()):
                return each.value
    return 0.0


@pytest.fixture
def web_with_token(monkeypatch):
    """The asgi_server fixture's process reads METRICS_TOKEN from its environment."""
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)


@pytest.mark.django_db(transaction=True)
def test_an_offer_expired_by_a_celery_worker_is_counted_in_the_web_process_metrics(
    web_with_token, asgi_server, celery_worker_live, offered
):
    # The offer's time is up (set back rather than waited for).
    TaskOffer.objects.filter(pk=offered["offer"].pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    text = scrape(asgi_server)
    expired = sample(text, "freshchain_offers_closed_total", status="expired")
    made = sample(text, "freshchain_offers_made_total")

    tasks.expire_offer.delay(offered["offer"].pk)
    deadline = time.monotonic() + 30
    while TaskOffer.objects.get(pk=offered["offer"].pk).status == OfferStatus.PENDING:
        assert time.monotonic() < deadline, "the worker did not expire the offer"
        time.sleep(0.1)

    # The worker is a thread of this test process; the page is served by another process.
    text = scrape(asgi_server)
    assert sample(text, "freshchain_offers_closed_total", status="expired") == expired + 1
    # ... and it offered the task to the next courier, in the worker too.
    assert sample(text, "freshchain_offers_made_total") == made + 1
    assert (
        TaskOffer.objects.get(task=offered["task"], status=OfferStatus.PENDING).courier
        == (offered["second"])
    )
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"]
