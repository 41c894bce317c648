"""The daily digest: kept each morning for the country and each area, sent to the regulators
who watch it, and downloaded as a PDF whose text says the day's figures."""

from datetime import timedelta

import pypdfium2
import pytest
from django.test import Client

from accounts.models import Notification
from common.dates import business_today
from controltower.models import DailyDigest
from controltower.services.digests import DIGEST_NOTIFICATION
from controltower.tasks import send_daily_digests
from tests.controltower.screen.conftest import NOON

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    document = pypdfium2.PdfDocument(content)
    return "".join(page.get_textpage().get_text_range() for page in document)


def download(user, day, language="zh-hans"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client.get(f"/tower/digest/{day.isoformat()}/")


@pytest.fixture
def next_morning(noon, world):
    """The world's day is over: the clock stands at 06:30 the next morning."""
    noon.move_to(NOON + timedelta(hours=18, minutes=30))
    return business_today() - timedelta(days=1)


def test_the_morning_task_keeps_the_countrys_and_each_areas_digest_and_tells_their_regulators(
    next_morning, regulator, beijing_regulator, guangzhou_regulator
):
    assert send_daily_digests() == 3

    digests = {d.area.name if d.area else "": d for d in DailyDigest.objects.all()}
    assert set(digests) == {"", "北京市", "广州市"}
    assert digests[""].business_date == next_morning
    assert digests[""].figures["counters"]["trades"] == 2
    assert digests["北京市"].figures["counters"]["tonnes"] == "0.148"
    assert digests["广州市"].figures["counters"]["trades"] == 0
    told = Notification.objects.filter(kind=DIGEST_NOTIFICATION)
    assert sorted(told.values_list("user_id", flat=True)) == sorted(
        [regulator.pk, beijing_regulator.pk, guangzhou_regulator.pk]
    )
    assert told.get(user=beijing_regulator).url == f"/tower/digest/{next_morning.isoformat()}/"


def test_running_the_task_twice_keeps_and_tells_nothing_more(next_morning, beijing_regulator):
    send_daily_digests()
    kept = list(DailyDigest.objects.values_list("pk", "figures"))

    assert send_daily_digests() == 0

    assert list(DailyDigest.objects.values_list("pk", "figures")) == kept
    assert Notification.objects.filter(kind=DIGEST_NOTIFICATION).count() == 1


def test_the_pdf_says_yesterdays_counters_trends_and_open_recalls_and_excursions(
    next_morning, beijing_regulator, world
):
    send_daily_digests()

    response = download(beijing_regulator, next_morning, language="en")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert f"Control tower daily digest {next_morning.isoformat()}" in text
    assert "Area: 北京市" in text
    assert "Tonnage (t)" in text
    assert "0.148" in text
    assert "北京新发地" in text
    assert "广州江南" not in text  # another region's market
    assert "50.0 %" in text  # the Beijing warehouse's on-time rate
    assert "108.4" not in text  # a single price that day: the index stays at its start
    assert "100.0" in text
    assert world["recall"].lot.lot_code in text
    assert "农药残留超标" in text
    assert world["beijing_shipment"].code in text  # its open excursion


def test_the_pdf_is_in_chinese_for_a_chinese_reader_and_the_same_bytes_each_time(
    next_morning, beijing_regulator
):
    send_daily_digests()

    first = download(beijing_regulator, next_morning)
    second = download(beijing_regulator, next_morning)

    assert first.content == second.content
    assert "控制塔日报" in pdf_text(first.content)


def test_a_day_without_a_kept_digest_is_compiled_on_request_and_not_kept(next_morning, regulator):
    response = download(regulator, next_morning, language="en")

    assert response.status_code == 200
    assert "Area: whole country" in pdf_text(response.content)
    assert not DailyDigest.objects.exists()


@pytest.mark.parametrize("offset_days", [0, 1])
def test_today_and_future_days_have_no_digest(next_morning, regulator, offset_days):
    day = business_today() + timedelta(days=offset_days)

    assert download(regulator, day).status_code == 404


def test_an_impossible_date_is_not_found(regulator):
    client = Client()
    client.force_login(regulator)

    assert client.get("/tower/digest/2026-02-30/").status_code == 404
