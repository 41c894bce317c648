from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from djmoney.money import Money

from accounts.choices import Role
from marketplace.choices import ListingStatus
from marketplace.models import Listing
from settlement.accounts import wallet_of
from settlement.choices import FundingMethod
from settlement.funding import top_up
from tests.accounts.factories import UserFactory
from tests.farms.factories import HarvestLotFactory


class ListingFactory(factory.django.DjangoModelFactory):
    """An active listing of a fresh lot, picked up at the farm."""

    class Meta:
        model = Listing

    lot = factory.SubFactory(HarvestLotFactory)
    seller = factory.LazyAttribute(lambda o: o.lot.farm.farmer)
    listed_by = factory.LazyAttribute(lambda o: o.seller)
    product = factory.LazyAttribute(lambda o: o.lot.product)
    grade = factory.LazyAttribute(lambda o: o.lot.grade)
    harvest_date = factory.LazyAttribute(lambda o: o.lot.harvest_date)
    certifications = factory.LazyAttribute(lambda o: list(o.lot.certifications))
    price_per_kg = Money(Decimal("4.80"), "CNY")
    available_kg = Decimal("50.000")
    minimum_order_kg = Decimal("1.000")
    available_from = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    available_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))
    pickup_point = factory.LazyAttribute(lambda o: o.lot.farm.location)
    status = ListingStatus.ACTIVE


class BuyerFactory(UserFactory):
    """A buyer with ¥100,000 in his platform wallet (`wallet=0` for none): placing an order
    holds its total there."""

    role = Role.BUYER

    @factory.post_generation
    def wallet(self, create, extracted, **kwargs):
        amount = Decimal("100000.00") if extracted is None else Decimal(extracted)
        if create and amount > 0:
            fund_wallet(self, amount)


def fund_wallet(user, amount="100000.00"):
    """Money paid into the user's platform wallet (a bank top-up)."""
    return top_up(
        account=wallet_of(user),
        amount=amount,
        method=FundingMethod.BANK,
        by=None,
        idempotency_key=f"test-wallet-funding:{user.pk}:{amount}",
    )
