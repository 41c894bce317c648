"""A regulator limited to an area sees, is told of and is pushed only the warnings about what
lies inside it; the admin and a regulator of the whole country see them all."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.utils import timezone

from accounts.choices import Role
from accounts.models import Notification
from coldchain.services.registry import assign_logger, register_logger
from controltower.models import RegulatorArea, RiskWarning
from controltower.risk.kinds import RiskKind
from controltower.selectors.risk_scope import WARNINGS_GROUP, area_group, groups_of
from controltower.services.risk import NOTIFICATION_KIND, evaluate_all_rules
from tests.accounts.factories import UserFactory
from tests.coldchain.factories import ColdStoreFactory, SiteFactory

pytestmark = pytest.mark.django_db

BEIJING = (115.42, 39.44, 117.51, 41.06)
GUANGZHOU = (112.9, 22.5, 114.1, 23.9)
WARNINGS = "/api/tower/warnings/"


def regulator_of(box):
    user = UserFactory(role=Role.REGULATOR)
    area = RegulatorArea.objects.create(
        user=user, name="area", area=MultiPolygon(Polygon.from_bbox(box), srid=4326)
    )
    return user, area


@pytest.fixture
def world(rule_of):
    """Regulators of Beijing, of Guangzhou and of the whole country, an admin, and a silent
    logger in a cold store in each city (one warning each)."""
    beijing, beijing_area = regulator_of(BEIJING)
    guangzhou, _area = regulator_of(GUANGZHOU)
    country = UserFactory(role=Role.REGULATOR)
    admin = UserFactory(role=Role.ADMIN)
    rule_of(RiskKind.LOGGER_SILENT, max_silence_minutes=30)
    loggers = []
    for n, point in enumerate([(116.40, 39.90), (113.26, 23.13)]):
        logger, _secret = register_logger(device_id=f"LOG-AREA-{n}")
        store = ColdStoreFactory(site=SiteFactory(location=Point(*point, srid=4326)))
        assign_logger(logger=logger, subject=store, starts_at=timezone.now() - timedelta(hours=3))
        loggers.append(logger)
    evaluate_all_rules()
    in_beijing = RiskWarning.objects.get(subject_id=loggers[0].pk)
    in_guangzhou = RiskWarning.objects.get(subject_id=loggers[1].pk)
    return locals()


def _listed(api_client, user) -> set[int]:
    api_client.force_authenticate(user=user)
    return {warning["id"] for warning in api_client.get(WARNINGS).json()["results"]}


def test_each_regulator_sees_the_warnings_of_her_area(world, api_client):
    both = {world["in_beijing"].pk, world["in_guangzhou"].pk}

    assert _listed(api_client, world["beijing"]) == {world["in_beijing"].pk}
    assert _listed(api_client, world["guangzhou"]) == {world["in_guangzhou"].pk}
    assert _listed(api_client, world["country"]) == both
    assert _listed(api_client, world["admin"]) == both


def test_a_warning_outside_her_area_is_not_found_and_stays_unacknowledged(world, api_client):
    api_client.force_authenticate(user=world["beijing"])
    outside = world["in_guangzhou"]

    assert api_client.get(f"{WARNINGS}{outside.pk}/").status_code == 404
    assert api_client.post(f"{WARNINGS}{outside.pk}/acknowledge/").status_code == 404
    outside.refresh_from_db()
    assert outside.acknowledged_at is None


def test_only_those_who_see_a_warning_are_told_and_pushed_it(world):
    def told(user) -> set[int]:
        notes = Notification.objects.filter(user=user, kind=NOTIFICATION_KIND)
        return {note.payload["warning_id"] for note in notes}

    beijing, guangzhou = world["in_beijing"].pk, world["in_guangzhou"].pk
    assert told(world["beijing"]) == {beijing}
    assert told(world["guangzhou"]) == {guangzhou}
    assert told(world["country"]) == told(world["admin"]) == {beijing, guangzhou}
    assert groups_of(world["in_beijing"]) == [
        WARNINGS_GROUP,
        area_group(world["beijing_area"].pk),
    ]
