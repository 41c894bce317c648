"""A role changes only through accounts.services.roles.change_role: audited, and the person's
live screens reconnect as the new role; the admin site's role edits use it too."""

import pytest
from django.test import Client

from accounts.choices import AuditAction, Role
from accounts.models import AuditEntry
from accounts.services.roles import change_role
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_role_change_is_audited_with_before_and_after(admin_user):
    person = UserFactory(role=Role.CONSUMER)

    change_role(user=person, role=Role.FARMER, changed_by=admin_user, address="198.51.100.4")

    person.refresh_from_db()
    assert person.role == Role.FARMER
    entry = AuditEntry.objects.get(action=AuditAction.ROLE_CHANGED)
    assert (entry.actor, entry.subject) == (admin_user, person)
    assert entry.changes == {"role": [Role.CONSUMER, Role.FARMER]}
    assert str(entry.client_address) == "198.51.100.4"


def test_the_same_role_again_changes_and_logs_nothing(admin_user):
    person = UserFactory(role=Role.BUYER)
    change_role(user=person, role=Role.BUYER, changed_by=admin_user, address=None)
    assert not AuditEntry.objects.filter(action=AuditAction.ROLE_CHANGED).exists()


def test_an_unknown_role_is_refused(admin_user):
    person = UserFactory(role=Role.BUYER)
    with pytest.raises(ValueError, match="boss"):
        change_role(user=person, role="boss", changed_by=admin_user, address=None)
    person.refresh_from_db()
    assert person.role == Role.BUYER


def test_role_edit_on_the_admin_site_is_audited():
    root = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    person = UserFactory(role=Role.CONSUMER)
    browser = Client(headers={"Accept-Language": "en"})
    browser.force_login(root)
    page = browser.get(f"/admin/accounts/user/{person.pk}/change/")
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("password", "groups", "user_permissions")
    }
    data.update(
        {
            "role": Role.COURIER,
            "date_joined_0": person.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": person.date_joined.strftime("%H:%M:%S"),
            "last_login_0": "",
            "last_login_1": "",
            "is_active": "on",
        }
    )
    data = {k: v for k, v in data.items() if not isinstance(v, bool) and k != "date_joined"}

    answer = browser.post(f"/admin/accounts/user/{person.pk}/change/", data)

    assert answer.status_code == 302, answer.context["adminform"].form.errors
    person.refresh_from_db()
    assert person.role == Role.COURIER
    entry = AuditEntry.objects.get(action=AuditAction.ROLE_CHANGED, subject=person)
    assert entry.actor == root
    assert entry.changes == {"role": [Role.CONSUMER, Role.COURIER]}
