"""The risk API, /api/tower/: warnings for admins and regulators, rules for admins only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.choices import Role
from accounts.models import Notification
from coldchain.services.registry import assign_logger, register_logger
from controltower.models import RiskRule, RiskWarning
from controltower.risk.kinds import RiskKind, default_thresholds
from controltower.services.risk import evaluate_all_rules
from tests.accounts.factories import UserFactory
from tests.coldchain.factories import ColdStoreFactory

pytestmark = pytest.mark.django_db

WARNINGS = "/api/tower/warnings/"
RULES = "/api/tower/rules/"
OUTSIDERS = [
    Role.FARMER,
    Role.CONSUMER,
    Role.BUYER,
    Role.MARKET_OPERATOR,
    Role.COLDCHAIN_CONTROLLER,
    Role.WAREHOUSE_MANAGER,
    Role.COURIER,
    Role.COOPERATIVE_MANAGER,
]


@pytest.fixture
def silent_store_warning(rule_of):
    """A cold store whose logger never spoke since its watch began three hours ago."""
    rule_of(RiskKind.LOGGER_SILENT, max_silence_minutes=30)
    logger, _secret = register_logger(device_id="LOG-API-1")
    assign_logger(
        logger=logger,
        subject=ColdStoreFactory(name="一号冷库"),
        starts_at=timezone.now() - timedelta(hours=3),
    )
    evaluate_all_rules()
    return RiskWarning.objects.get()


@pytest.fixture
def english_api(api_client):
    api_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return api_client


def as_user(client, user):
    client.force_authenticate(user=user)
    return client


@pytest.mark.parametrize("role", [Role.REGULATOR, Role.ADMIN])
def test_admin_and_regulator_list_open_warnings(english_api, silent_store_warning, role):
    response = as_user(english_api, UserFactory(role=role)).get(WARNINGS, {"open": "true"})

    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["id"] == silent_store_warning.pk
    assert row["kind"] == "logger_silent"
    assert row["kind_label"] == "Data logger silent"
    assert row["subject_type"] == "coldchain.datalogger"
    assert row["message"].startswith("Logger LOG-API-1 watching 一号冷库 has been silent for 18")
    assert row["is_open"] is True
    assert row["acknowledged_at"] is None


@pytest.mark.parametrize("role", OUTSIDERS)
def test_other_roles_are_refused_every_warning_endpoint(api_client, silent_store_warning, role):
    client = as_user(api_client, UserFactory(role=role))
    pk = silent_store_warning.pk

    assert client.get(WARNINGS).status_code == 403
    assert client.get(f"{WARNINGS}{pk}/").status_code == 403
    assert client.post(f"{WARNINGS}{pk}/acknowledge/").status_code == 403
    assert client.get(RULES).status_code == 403
    silent_store_warning.refresh_from_db()
    assert silent_store_warning.acknowledged_at is None


def test_anonymous_is_refused(api_client, silent_store_warning):
    assert api_client.get(WARNINGS).status_code in (401, 403)


def test_regulator_acknowledges_once(english_api, silent_store_warning, regulator):
    client = as_user(english_api, regulator)

    first = client.post(f"{WARNINGS}{silent_store_warning.pk}/acknowledge/")
    again = client.post(f"{WARNINGS}{silent_store_warning.pk}/acknowledge/")

    assert first.status_code == 200
    assert first.json()["acknowledged_by"] == (regulator.get_full_name() or regulator.username)
    assert again.status_code == 409
    assert again.json() == {"detail": "Someone has already acknowledged this warning."}
    silent_store_warning.refresh_from_db()
    assert silent_store_warning.acknowledged_by == regulator


def test_unknown_warning_is_404(api_client, regulator):
    assert as_user(api_client, regulator).get(f"{WARNINGS}999999/").status_code == 404


def test_bad_filters_are_field_errors(english_api, regulator):
    response = as_user(english_api, regulator).get(WARNINGS, {"open": "maybe", "kind": "x"})

    assert response.status_code == 400
    assert sorted(response.json()) == ["kind", "open"]


def test_new_warning_is_told_to_every_admin_and_regulator(rule_of, regulator, admin_user, farmer):
    rule_of(RiskKind.LOGGER_SILENT, max_silence_minutes=30)
    logger, _secret = register_logger(device_id="LOG-API-2")
    assign_logger(
        logger=logger,
        subject=ColdStoreFactory(),
        starts_at=timezone.now() - timedelta(hours=3),
    )

    evaluate_all_rules()
    evaluate_all_rules()

    told = Notification.objects.filter(kind="tower.warning")
    assert sorted(told.values_list("user_id", flat=True)) == sorted([regulator.pk, admin_user.pk])
    assert told.first().url == "/tower/warnings/"


# --- Rules ---------------------------------------------------------------------------------


def test_admin_lists_rules_with_thresholds_and_units(english_api, admin_user, rule_of):
    rule_of(RiskKind.EXCURSION_OPEN)

    response = as_user(english_api, admin_user).get(RULES)

    (row,) = response.json()["results"]
    assert row["thresholds"] == {"max_open_minutes": 60}
    assert row["threshold_rows"] == [
        {
            "name": "max_open_minutes",
            "label": "longest open excursion allowed",
            "unit": "minutes",
            "value": 60,
        }
    ]
    assert row["scope"] == "Everywhere"


def test_regulator_may_not_read_or_change_rules(api_client, regulator, rule_of):
    rule = rule_of(RiskKind.EXCURSION_OPEN)
    client = as_user(api_client, regulator)

    assert client.get(RULES).status_code == 403
    assert (
        client.patch(f"{RULES}{rule.pk}/", {"is_enabled": False}, format="json").status_code == 403
    )
    rule.refresh_from_db()
    assert rule.is_enabled


def test_admin_changes_a_threshold(api_client, admin_user, rule_of):
    rule = rule_of(RiskKind.EXCURSION_OPEN)

    response = as_user(api_client, admin_user).patch(
        f"{RULES}{rule.pk}/", {"thresholds": {"max_open_minutes": 90}}, format="json"
    )

    assert response.status_code == 200
    rule.refresh_from_db()
    assert rule.thresholds == {"max_open_minutes": 90}


def test_impossible_thresholds_are_refused_with_every_problem(english_api, admin_user, rule_of):
    rule = rule_of(RiskKind.REPEATED_POSITIVE_TESTS)

    response = as_user(english_api, admin_user).patch(
        f"{RULES}{rule.pk}/",
        {"thresholds": {"positives": 1, "window_days": -3, "colour": "red"}},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "thresholds": {
            "colour": ["This rule has no such threshold; it has: positives, window_days."],
            "positives": ["Enter a value at least 2 and at most 1000 (tests)."],
            "window_days": ["Enter a value at least 1 and at most 365 (days)."],
        }
    }
    rule.refresh_from_db()
    assert rule.thresholds == default_thresholds(RiskKind.REPEATED_POSITIVE_TESTS)


@pytest.mark.parametrize("thresholds", ["30", [1, 2], None])
def test_thresholds_that_are_not_an_object_are_refused(
    english_api, admin_user, rule_of, thresholds
):
    rule = rule_of(RiskKind.EXCURSION_OPEN)

    response = as_user(english_api, admin_user).patch(
        f"{RULES}{rule.pk}/", {"thresholds": thresholds}, format="json"
    )

    assert response.status_code == 400
    assert "thresholds" in response.json()
    assert RiskRule.objects.get().thresholds == {"max_open_minutes": 60}


def test_disabling_a_rule_closes_its_warnings(api_client, admin_user, silent_store_warning):
    response = as_user(api_client, admin_user).patch(
        f"{RULES}{silent_store_warning.rule_id}/", {"is_enabled": False}, format="json"
    )

    assert response.status_code == 200
    silent_store_warning.refresh_from_db()
    assert silent_store_warning.resolved_at is not None
