"""The platform admin's audit log page: newest first, filtered, paged; 403 for every other
role. And the admin site's view of the log, which changes nothing."""

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.utils import timezone

from accounts.choices import AuditAction, Role
from accounts.models import AuditEntry
from accounts.navigation import navigation_for
from accounts.services.audit import record_audit
from common.dates import BUSINESS_TIME_ZONE
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def page_as(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def shown(response) -> list[int]:
    return [entry.pk for entry in response.context["entries"]]


@pytest.fixture
def admin(db):
    return UserFactory(role=Role.ADMIN, username="platform")


@pytest.mark.parametrize("role", [role for role in Role.values if role != Role.ADMIN])
def test_every_other_role_is_refused(role):
    response = page_as(UserFactory(role=role)).get("/audit/")

    assert response.status_code == 403


def test_a_visitor_is_sent_to_sign_in(client):
    response = client.get("/audit/")

    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_a_deactivated_admin_is_refused(admin):
    client = page_as(admin)
    admin.is_active = False
    admin.save()

    assert client.get("/audit/").status_code in (302, 403)


def test_the_admin_reads_the_log_newest_first_with_what_changed(admin, farmer):
    first = record_audit(
        action=AuditAction.SIGN_IN, actor=farmer, subject=farmer, address="10.1.1.1"
    )
    second = record_audit(
        action=AuditAction.PHONE_CHANGED,
        actor=admin,
        subject=farmer,
        target=farmer,
        changes={"phone": ("+8613800138000", "+8613900139001")},
        address="10.1.1.2",
    )

    response = page_as(admin).get("/audit/")

    assert response.status_code == 200
    assert shown(response) == [second.pk, first.pk]
    page = response.content.decode()
    assert "Phone number changed" in page
    assert "138****8000 → 139****9001" in page
    assert "10.1.1.2" in page
    assert f"#{farmer.pk} {farmer.username}" in page


def test_the_admin_finds_the_page_in_her_menu(admin, farmer):
    assert "accounts:audit_log" in [entry.url_name for entry in navigation_for(admin)]
    assert "accounts:audit_log" not in [entry.url_name for entry in navigation_for(farmer)]


def test_filters_by_action_actor_person_address_and_shanghai_dates(admin, farmer, buyer):
    a = record_audit(action=AuditAction.SIGN_IN, actor=farmer, subject=farmer, address="10.0.0.1")
    b = record_audit(action=AuditAction.SIGN_IN_FAILED, subject=buyer, address="10.0.0.2")
    c = record_audit(
        action=AuditAction.PASSWORD_SET_BY_OTHER, actor=admin, subject=buyer, address="10.0.0.1"
    )
    client = page_as(admin)

    def filtered(**params) -> list[int]:
        response = client.get("/audit/", params)
        assert response.status_code == 200
        return shown(response)

    assert filtered(action="sign_in_failed") == [b.pk]
    assert filtered(actor=str(farmer.pk)) == [a.pk]
    assert filtered(actor=admin.username.upper()) == [c.pk]
    assert filtered(subject=buyer.phone.removeprefix("+86")) == [c.pk, b.pk]
    assert filtered(address="10.0.0.1") == [c.pk, a.pk]
    assert filtered(subject=str(buyer.pk), address="10.0.0.1") == [c.pk]
    today = timezone.localdate(timezone=BUSINESS_TIME_ZONE).isoformat()
    assert filtered(since=today, until=today) == [c.pk, b.pk, a.pk]
    assert filtered(until="2020-01-01") == []


def test_dates_are_shanghai_dates(admin, farmer):
    # 23:30 UTC on 1 March is 07:30 on 2 March in Shanghai.
    entry = AuditEntry.objects.create(
        action=AuditAction.SIGN_IN, actor=farmer, at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    )
    client = page_as(admin)

    on_the_second = client.get("/audit/", {"since": "2026-03-02", "until": "2026-03-02"})
    on_the_first = client.get("/audit/", {"since": "2026-03-01", "until": "2026-03-01"})

    assert shown(on_the_second) == [entry.pk]
    assert shown(on_the_first) == []


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"actor": "nobody-here"}, "actor", "No user has this id, username or mobile number."),
        ({"address": "10.0.0"}, "address", "Enter a valid IPv4 or IPv6 address."),
        ({"since": "2026-03-05", "until": "2026-03-01"}, "until", "The end date is before"),
        ({"since": "yesterday"}, "since", "Enter a valid date."),
    ],
)
def test_bad_filters_say_what_is_wrong(admin, params, field, message):
    response = page_as(admin).get("/audit/", params)

    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors
    assert response.context["entries"] == []


def test_pages_go_back_in_time_without_skipping_or_repeating(admin, farmer, monkeypatch):
    monkeypatch.setattr("accounts.views.AUDIT_PAGE_SIZE", 3)
    entries = [
        record_audit(action=AuditAction.SIGN_IN, actor=farmer, subject=farmer) for _ in range(7)
    ]
    newest_first = [entry.pk for entry in reversed(entries)]
    client = page_as(admin)

    seen, url = [], "/audit/?action=sign_in"
    while url:
        response = client.get(url)
        seen += shown(response)
        older = response.context["older"]
        url = f"/audit/?{older}" if older else None

    assert seen == newest_first


def test_the_admin_site_shows_the_log_and_changes_nothing(farmer):
    superuser = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    entry = record_audit(action=AuditAction.SIGN_IN, actor=farmer, subject=farmer)
    client = page_as(superuser)

    listing = client.get("/admin/accounts/auditentry/")
    detail = client.get(f"/admin/accounts/auditentry/{entry.pk}/change/")
    add = client.get("/admin/accounts/auditentry/add/")
    delete = client.post(f"/admin/accounts/auditentry/{entry.pk}/delete/", {"post": "yes"})

    assert listing.status_code == 200
    assert f"/admin/accounts/auditentry/{entry.pk}/change/" in listing.content.decode()
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert add.status_code == 403
    assert delete.status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
