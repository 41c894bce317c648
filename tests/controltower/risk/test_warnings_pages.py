"""The risk warnings' page and panel: admins and regulators see and acknowledge; others are
refused."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.choices import Role
from coldchain.services.registry import assign_logger, register_logger
from controltower.models import RiskWarning
from controltower.risk.kinds import RiskKind
from controltower.services.risk import evaluate_all_rules
from tests.accounts.factories import UserFactory
from tests.coldchain.factories import ColdStoreFactory

pytestmark = pytest.mark.django_db

PAGE = "/tower/warnings/"
PANEL = "/tower/warnings/panel/"


@pytest.fixture
def warning(rule_of):
    rule_of(RiskKind.LOGGER_SILENT, max_silence_minutes=30)
    logger, _secret = register_logger(device_id="LOG-PAGE-1")
    assign_logger(
        logger=logger,
        subject=ColdStoreFactory(name="二号冷库"),
        starts_at=timezone.now() - timedelta(hours=3),
    )
    evaluate_all_rules()
    return RiskWarning.objects.get()


def signed_in(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.mark.parametrize("role", [Role.REGULATOR, Role.ADMIN])
def test_page_lists_open_warnings_with_an_acknowledge_button(client, warning, role):
    page = signed_in(client, UserFactory(role=role)).get(PAGE)

    assert page.status_code == 200
    html = page.content.decode()
    assert '<section id="tower-warnings"' in html
    assert f'data-warning-id="{warning.pk}"' in html
    assert "Logger LOG-PAGE-1 watching 二号冷库 has been silent" in html
    assert f'action="/tower/warnings/{warning.pk}/acknowledge/"' in html
    assert 'data-socket-path="/ws/tower/warnings/"' in html


def test_page_is_in_chinese_by_default(client, warning, regulator):
    client.force_login(regulator)

    html = client.get(PAGE).content.decode()

    assert "风险预警" in html


@pytest.mark.parametrize("role", [Role.FARMER, Role.CONSUMER, Role.MARKET_OPERATOR])
def test_other_roles_are_refused_the_page_the_panel_and_the_button(client, warning, role):
    signed_in(client, UserFactory(role=role))

    assert client.get(PAGE).status_code == 403
    assert client.get(PANEL).status_code == 403
    assert client.post(f"/tower/warnings/{warning.pk}/acknowledge/").status_code == 403
    warning.refresh_from_db()
    assert warning.acknowledged_at is None


def test_signed_out_visitor_is_sent_to_sign_in(client, warning):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert "/sign-in/" in response["Location"]


def test_regulator_acknowledges_from_the_page(client, warning, regulator):
    signed_in(client, regulator)

    response = client.post(
        f"/tower/warnings/{warning.pk}/acknowledge/", {"next": PAGE}, follow=True
    )

    assert response.redirect_chain == [(PAGE, 302)]
    assert "Warning acknowledged." in response.content.decode()
    warning.refresh_from_db()
    assert warning.acknowledged_by == regulator
    # Acknowledged, still open: shown without its button.
    assert f'action="/tower/warnings/{warning.pk}/acknowledge/"' not in response.content.decode()


def test_second_acknowledgement_says_so(client, warning, regulator, admin_user):
    signed_in(client, admin_user).post(f"/tower/warnings/{warning.pk}/acknowledge/")

    response = signed_in(client, regulator).post(
        f"/tower/warnings/{warning.pk}/acknowledge/", follow=True
    )

    assert "Someone has already acknowledged this warning." in response.content.decode()
    warning.refresh_from_db()
    assert warning.acknowledged_by == admin_user


def test_acknowledging_an_unknown_warning_is_404(client, regulator):
    assert (
        signed_in(client, regulator).post("/tower/warnings/424242/acknowledge/").status_code == 404
    )


def test_resolved_warnings_leave_the_panel(client, warning, regulator):
    RiskWarning.objects.filter(pk=warning.pk).update(resolved_at=timezone.now())

    html = signed_in(client, regulator).get(PANEL).content.decode()

    assert "No open risk warnings." in html
    assert f'data-warning-id="{warning.pk}"' not in html


def test_panel_fetched_by_its_script_sends_acknowledgements_back_to_the_page(
    client, warning, regulator
):
    html = signed_in(client, regulator).get(PANEL, {"back": "/tower/"}).content.decode()
    elsewhere = client.get(PANEL, {"back": "https://evil.example/"}).content.decode()

    assert '<input type="hidden" name="next" value="/tower/">' in html
    assert 'value="https://evil.example/"' not in elsewhere
