"""Partner keys as people manage them (/trace/partners/ and the Django admin): the platform
admin issues a key limited to a co-operative, a market or neither, shown once; a co-operative
manager issues keys limited to his own co-operative and sees only those; revoking."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.choices import Role
from tests.accounts.factories import UserFactory
from traceability.epcis.partners import hash_key, issue_partner_key, partner_for_key
from traceability.models import PartnerSystem

from .documents import digital_link, document, object_event

pytestmark = pytest.mark.django_db

PAGE = "/trace/partners/"


def _raw_key(response) -> str:
    text = response.content.decode()
    start = text.index('data-testid="raw-key">') + len('data-testid="raw-key">')
    return text[start : text.index("</code>", start)]


def test_the_admin_issues_a_market_key_shown_once(admin_user, market, english):
    english.force_login(admin_user)

    response = english.post(
        PAGE, {"name": "Retailer receiving", "market": market.pk, "may_capture": "on"}
    )

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    raw = _raw_key(response)
    partner = PartnerSystem.objects.get()
    assert (partner.name, partner.market_id, partner.cooperative_id) == (
        "Retailer receiving",
        market.pk,
        None,
    )
    assert (partner.may_capture, partner.may_query) == (True, False)
    assert partner.key_hash == hash_key(raw)
    assert raw not in partner.key_hash
    assert partner_for_key(raw) == partner
    again = english.get(PAGE).content.decode()
    assert "Retailer receiving" in again
    assert raw not in again  # shown once
    assert partner.key_prefix in again


def test_a_key_is_not_limited_to_both(admin_user, market, cooperative, english):
    english.force_login(admin_user)

    response = english.post(
        PAGE, {"name": "Both", "market": market.pk, "cooperative": cooperative.pk}
    )

    assert "Limit a key to a co-operative or to a market, not both." in response.content.decode()
    assert PartnerSystem.objects.count() == 0


def test_a_name_is_required(admin_user, english):
    english.force_login(admin_user)

    response = english.post(PAGE, {"name": ""})

    assert "This field is required." in response.content.decode()
    assert PartnerSystem.objects.count() == 0


def test_a_manager_issues_keys_for_his_own_cooperative_only(
    manager, cooperative, other_cooperative, market, english
):
    english.force_login(manager)

    english.post(
        PAGE,
        {"name": "Our packing line", "cooperative": other_cooperative.pk, "market": market.pk},
    )

    partner = PartnerSystem.objects.get()
    assert (partner.cooperative_id, partner.market_id) == (cooperative.pk, None)
    assert partner.created_by == manager


def test_a_manager_sees_and_revokes_only_his_cooperatives_keys(
    manager, cooperative, other_cooperative, admin_user, english
):
    ours, _key = issue_partner_key(name="Ours", cooperative=cooperative, created_by=admin_user)
    theirs, _key = issue_partner_key(
        name="Theirs", cooperative=other_cooperative, created_by=admin_user
    )
    platform, _key = issue_partner_key(name="Platform wide", created_by=admin_user)
    english.force_login(manager)

    page = english.get(PAGE).content.decode()
    other = english.post(f"/trace/partners/{theirs.pk}/revoke/")
    wide = english.post(f"/trace/partners/{platform.pk}/revoke/")
    own = english.post(f"/trace/partners/{ours.pk}/revoke/")

    assert "Ours" in page
    assert "Theirs" not in page
    assert "Platform wide" not in page
    assert (other.status_code, wide.status_code, own.status_code) == (404, 404, 302)
    revoked = set(
        PartnerSystem.objects.filter(revoked_at__isnull=False).values_list("name", flat=True)
    )
    assert revoked == {"Ours"}


def test_the_admin_sees_every_key_and_revokes_any(admin_user, cooperative, english):
    partner, raw = issue_partner_key(name="Ours", cooperative=cooperative, created_by=admin_user)
    english.force_login(admin_user)

    english.post(f"/trace/partners/{partner.pk}/revoke/")

    assert partner_for_key(raw) is None
    assert "Revoked" in english.get(PAGE).content.decode()


@pytest.mark.parametrize(
    "role", [Role.FARMER, Role.BUYER, Role.MARKET_OPERATOR, Role.CONSUMER, Role.REGULATOR]
)
def test_other_roles_may_not_manage_keys(role, cooperative, admin_user, english):
    partner, _raw = issue_partner_key(name="Ours", cooperative=cooperative, created_by=admin_user)
    english.force_login(UserFactory(role=role))

    assert english.get(PAGE).status_code == 403
    assert english.post(PAGE, {"name": "Mine"}).status_code == 403
    assert english.post(f"/trace/partners/{partner.pk}/revoke/").status_code == 403
    assert PartnerSystem.objects.count() == 1


def test_a_manager_without_a_cooperative_may_not(cooperative_manager, english):
    english.force_login(cooperative_manager)

    assert english.get(PAGE).status_code == 403


def test_the_django_admin_issues_a_key_once_and_revokes(cooperative, english):
    superuser = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    english.force_login(superuser)

    response = english.post(
        "/admin/traceability/partnersystem/add/",
        {"name": "Regulator platform", "may_capture": "", "may_query": "on"},
        follow=True,
    )

    text = response.content.decode()
    partner = PartnerSystem.objects.get()
    assert "shown only this once" in text
    raw = text.split("shown only this once: ", 1)[1][:47]
    assert partner_for_key(raw) == partner
    assert (partner.may_capture, partner.may_query, partner.created_by) == (False, True, superuser)
    english.post(
        "/admin/traceability/partnersystem/",
        {"action": "revoke", "_selected_action": [partner.pk]},
    )
    assert partner_for_key(raw) is None


def test_the_list_shows_each_keys_last_document(packing_line, our_lot, send, admin_user, english):
    _partner, key = packing_line
    at = timezone.now() - timedelta(hours=1)
    send(key, document(object_event(digital_link(our_lot), at, quantity=-1), at=at))
    english.force_login(admin_user)

    page = english.get(PAGE).content.decode()

    assert ": refused, 1 errors" in page
