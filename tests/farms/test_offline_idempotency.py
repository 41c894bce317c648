"""A harvest lot kept on the phone while offline is sent with its idempotency key: sent
twice (a lost answer, a retry), it is recorded once and the second answer is the same."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from common.dates import business_today
from farms.choices import Grade
from farms.models import HarvestLot
from farms.services.lots import record_harvest_lot
from tests.farms.factories import FarmFactory

pytestmark = pytest.mark.django_db

KEY = "0f6c1f3a9b8e4d2c8a7b6c5d4e3f2a1b"


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _form(farm, **overrides) -> dict:
    return {
        "product": "VEG-CUCUMBER",
        "farm": farm.pk,
        "harvest_date": business_today().isoformat(),
        "quantity": "120",
        "grade": "first",
        "pesticide_test_result": "not_tested",
        "idempotency_key": KEY,
        **overrides,
    }


def test_the_same_key_twice_records_one_lot_and_returns_it(farm, member, catalogue):
    arguments = {
        "recorded_by": member,
        "farm": farm,
        "product": catalogue["VEG-CUCUMBER"],
        "harvest_date": business_today(),
        "quantity_kg": Decimal("120"),
        "grade": Grade.FIRST,
        "idempotency_key": KEY,
    }

    first = record_harvest_lot(**arguments)
    second = record_harvest_lot(**arguments)

    assert second.pk == first.pk
    assert second.lot_code == first.lot_code
    assert HarvestLot.objects.count() == 1


def test_the_page_sent_twice_with_one_key_records_one_lot(farm, member, catalogue):
    client = _client(member)

    answers = [client.post(reverse("farms:lot_create"), _form(farm)) for _ in range(2)]

    lot = HarvestLot.objects.get()
    assert [answer.status_code for answer in answers] == [302, 302]
    assert answers[0]["Location"] == answers[1]["Location"] == reverse("farms:lot_list")
    assert lot.idempotency_key == KEY
    assert lot.quantity_kg == Decimal("120.000")


def test_without_a_key_each_post_is_a_lot(farm, member, catalogue):
    client = _client(member)

    for _ in range(2):
        client.post(reverse("farms:lot_create"), _form(farm, idempotency_key=""))

    assert HarvestLot.objects.count() == 2


def test_the_form_carries_a_fresh_key_each_time_it_is_shown(member, farm, catalogue):
    client = _client(member)

    keys = {
        client.get(reverse("farms:lot_create")).context["form"]["idempotency_key"].value()
        for _ in range(2)
    }

    assert len(keys) == 2
    assert all(len(key) == 32 for key in keys)


def test_anothers_key_is_not_her_lot(farm, member, other_farm, catalogue):
    """A key belongs to who sent it: another farmer using the same key records her own lot
    and never gets the first farmer's lot back."""
    _client(member).post(reverse("farms:lot_create"), _form(farm))

    _client(other_farm.farmer).post(reverse("farms:lot_create"), _form(other_farm))

    lots = HarvestLot.objects.order_by("pk")
    assert [(lot.farm, lot.recorded_by) for lot in lots] == [
        (farm, member),
        (other_farm, other_farm.farmer),
    ]


def test_a_refused_draft_records_nothing_and_the_fixed_one_uses_the_same_key(
    farm, member, catalogue
):
    client = _client(member)
    tomorrow = business_today() + timedelta(days=1)

    refused = client.post(
        reverse("farms:lot_create"),
        _form(farm, harvest_date=tomorrow.isoformat()),
    )
    fixed = client.post(reverse("farms:lot_create"), _form(farm))

    assert refused.status_code == 200
    assert refused.context["form"].errors["harvest_date"]
    assert fixed.status_code == 302
    assert HarvestLot.objects.get().idempotency_key == KEY


def test_a_key_too_long_is_a_field_error_and_nothing_is_saved(farm, member, catalogue):
    response = _client(member).post(
        reverse("farms:lot_create"), _form(farm, idempotency_key="k" * 65)
    )

    assert response.status_code == 200
    assert response.context["form"].errors["idempotency_key"] == [
        "Ensure this value has at most 64 characters (it has 65)."
    ]
    assert HarvestLot.objects.count() == 0


def test_her_key_does_not_reach_a_farm_she_may_not_use(member, catalogue):
    stranger_farm = FarmFactory()

    response = _client(member).post(reverse("farms:lot_create"), _form(stranger_farm))

    assert response.status_code == 200
    assert "farm" in response.context["form"].errors
    assert HarvestLot.objects.count() == 0
