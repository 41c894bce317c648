"""Rules with impossible thresholds are refused with every problem listed and nothing saved:
in the model's validation (Django's admin uses it), the service and the API."""

import pytest
from django.core.exceptions import ValidationError

from accounts.choices import Role
from controltower.models import RiskRule
from controltower.risk.exceptions import RuleRejected
from controltower.risk.kinds import RiskKind, default_thresholds
from controltower.services.risk import create_default_rules, update_rule
from tests.accounts.factories import UserFactory
from tests.delivery.factories import front_warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def django_admin(client):
    """A page client signed in to Django's admin as a platform admin, reading English."""
    client.force_login(UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_model_validation_lists_every_bad_threshold(market):
    rule = RiskRule(
        kind=RiskKind.ON_TIME_RATE,
        thresholds={"target_pct": 120, "window_minutes": -5, "min_orders": 2.5, "colour": 1},
        market=market,
    )

    with pytest.raises(ValidationError) as refused:
        rule.full_clean()

    errors = refused.value.message_dict
    assert sorted(errors) == ["market", "thresholds"]
    assert errors["thresholds"] == [
        "colour: This rule has no such threshold; it has: target_pct, window_minutes, min_orders.",
        "on-time target: Enter a value above 0 and at most 100 (%).",
        "period: Enter a value at least 5 and at most 1440 (minutes).",
        "fewest orders to judge: Enter a whole number.",
    ]
    assert errors["market"] == ["This kind of rule cannot be limited to a market."]


def test_admin_form_refuses_a_negative_band_and_saves_nothing(django_admin):
    response = django_admin.post(
        "/admin/controltower/riskrule/add/",
        {
            "kind": RiskKind.PRICE_BAND,
            "name": "",
            "thresholds": '{"band_factor": 0, "min_band_pct": 150, "min_history_days": "x"}',
            "severity": "warning",
            "is_enabled": "on",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["thresholds"]
    assert errors == [
        "band width: Enter a value above 0 and at most 10 (× standard deviation).",
        "narrowest band: Enter a value above 0 and at most 100 (% of the mean).",
        "days of history needed: Enter a number.",
    ]
    assert not RiskRule.objects.exists()


def test_admin_form_fills_missing_thresholds_with_defaults(django_admin):
    response = django_admin.post(
        "/admin/controltower/riskrule/add/",
        {
            "kind": RiskKind.LOGGER_SILENT,
            "thresholds": '{"max_silence_minutes": "45"}',
            "severity": "critical",
            "is_enabled": "on",
        },
    )

    assert response.status_code == 302
    assert RiskRule.objects.get().thresholds == {"max_silence_minutes": 45}


def test_update_rule_refuses_every_problem_by_threshold_name(rule_of):
    rule = rule_of(RiskKind.PRICE_BAND)

    with pytest.raises(RuleRejected) as refused:
        update_rule(
            rule_id=rule.pk,
            thresholds={"band_factor": -1, "min_band_pct": 0},
            severity="apocalyptic",
            is_enabled=False,
        )

    assert refused.value.as_dict() == {
        "thresholds": {
            "band_factor": ["Enter a value above 0 and at most 10 (× standard deviation)."],
            "min_band_pct": ["Enter a value above 0 and at most 100 (% of the mean)."],
        },
        "severity": ["Choose a severity from the list."],
    }
    rule.refresh_from_db()
    assert rule.thresholds == default_thresholds(RiskKind.PRICE_BAND)
    assert rule.is_enabled


def test_update_rule_keeps_the_thresholds_not_named(rule_of):
    rule = rule_of(RiskKind.ON_TIME_RATE)

    update_rule(rule_id=rule.pk, thresholds={"target_pct": 95.5}, severity="critical")

    rule.refresh_from_db()
    assert rule.thresholds == {"target_pct": 95.5, "window_minutes": 60, "min_orders": 5}
    assert rule.severity == "critical"


def test_a_warehouse_rule_may_be_limited_to_a_warehouse_only(db):
    warehouse = front_warehouse("CY", 116.48, 39.92, half_side=0.05)

    RiskRule(kind=RiskKind.ON_TIME_RATE, warehouse=warehouse).full_clean()
    with pytest.raises(ValidationError) as refused:
        RiskRule(kind=RiskKind.LOGGER_SILENT, warehouse=warehouse).full_clean()

    assert refused.value.message_dict == {
        "warehouse": ["This kind of rule cannot be limited to a warehouse."]
    }


def test_default_rules_are_made_once(db):
    first = create_default_rules()
    again = create_default_rules()

    assert sorted(rule.kind for rule in first) == sorted(RiskKind.values)
    assert again == []
    assert RiskRule.objects.count() == len(RiskKind.values)
