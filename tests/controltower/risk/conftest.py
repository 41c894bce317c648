"""The control tower's people (a regulator beside the platform admin) and risk rules."""

import pytest
from django.utils import translation

from accounts.choices import Role
from controltower.models import RiskRule
from controltower.risk.kinds import default_thresholds
from tests.accounts.factories import UserFactory


@pytest.fixture
def regulator(db):
    return UserFactory(role=Role.REGULATOR)


@pytest.fixture(autouse=True)
def in_english():
    """Messages are read in English here (the site's default is Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture
def rule_of(db):
    """rule_of(kind, **thresholds) → an enabled rule of that kind, watching everything."""

    def make(kind: str, *, market=None, warehouse=None, **thresholds) -> RiskRule:
        return RiskRule.objects.create(
            kind=kind,
            thresholds={**default_thresholds(kind), **thresholds},
            market=market,
            warehouse=warehouse,
        )

    return make
