"""A lot of napa cabbage that went everywhere (a listing and a buyer, the market's counter, a
cold truck, a warehouse, two consumers), and the people who may recall it."""

from decimal import Decimal

import pytest

from accounts.choices import Role
from tests.accounts.factories import UserFactory
from tests.farms.factories import HarvestLotFactory, MembershipFactory
from tests.traceability.recall_factories import open_and_list
from tests.traceability.trail_factories import follow_lot_downstream
from traceability.models import RecallSeverity


@pytest.fixture
def lot(cabbage):
    return HarvestLotFactory(product=cabbage, quantity_kg=Decimal("500"))


@pytest.fixture
def journey(lot, settle):
    trade = settle("recall-trade", lot=lot)
    return follow_lot_downstream(lot, trade=trade)


@pytest.fixture
def coop_manager(lot):
    user = UserFactory(role=Role.COOPERATIVE_MANAGER)
    MembershipFactory(cooperative=lot.farm.cooperative, user=user, is_manager=True)
    return user


@pytest.fixture
def other_coop_manager(db):
    user = UserFactory(role=Role.COOPERATIVE_MANAGER)
    MembershipFactory(user=user, is_manager=True)
    return user


@pytest.fixture
def recall(journey, coop_manager):
    return open_and_list(
        lot_id=journey.lot.pk,
        reason="农残快检阳性，实验室确认毒死蜱超标",
        severity=RecallSeverity.CLASS_I,
        opened_by=coop_manager,
    )
