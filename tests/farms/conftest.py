"""Actors of the farms journeys: co-operatives with a manager and member farmers."""

from io import StringIO

import pytest
from django.core.management import call_command

from farms.models import Product
from tests.farms.factories import CooperativeFactory, FarmFactory, MembershipFactory


@pytest.fixture
def catalogue(db):
    """The shipped product catalogue, loaded as `manage.py load_catalogue` loads it."""
    call_command("load_catalogue", stdout=StringIO())
    return {product.code: product for product in Product.objects.select_related("storage_profile")}


@pytest.fixture
def cooperative(db):
    return CooperativeFactory()


@pytest.fixture
def other_cooperative(db):
    return CooperativeFactory()


@pytest.fixture
def member(farmer, cooperative):
    """The `farmer` actor, member of `cooperative`."""
    MembershipFactory(user=farmer, cooperative=cooperative)
    return farmer


@pytest.fixture
def manager(cooperative_manager, cooperative):
    """The `cooperative_manager` actor, managing `cooperative`."""
    MembershipFactory(user=cooperative_manager, cooperative=cooperative, is_manager=True)
    return cooperative_manager


@pytest.fixture
def farm(member, cooperative):
    return FarmFactory(farmer=member, cooperative=cooperative, name="东地大棚")


@pytest.fixture
def other_farm(other_cooperative):
    """A farm of another co-operative, worked by another farmer."""
    return FarmFactory(cooperative=other_cooperative, longitude=118.70, latitude=36.92)


@pytest.fixture
def english(client):
    """A page client that asks for English, so assertions read the source strings."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client
