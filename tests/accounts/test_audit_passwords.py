"""Password changes through every door are audited once, with the address; never the
password."""

import pytest
from django.test import Client

from accounts.choices import AuditAction, Role
from accounts.models import AuditEntry, User
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = "198.51.100.23"
NEW = "brand-new-pass-2026"


def only_entry(action) -> AuditEntry:
    return AuditEntry.objects.get(action=action)


def test_own_password_change_on_the_page(farmer):
    client = Client()
    client.force_login(farmer)

    response = client.post(
        "/password/",
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
        REMOTE_ADDR=ADDRESS,
    )

    assert response.status_code == 302
    entry = only_entry(AuditAction.PASSWORD_CHANGED)
    assert (entry.actor, entry.subject, entry.client_address) == (farmer, farmer, ADDRESS)
    assert (entry.object_type, entry.object_id) == ("accounts.user", str(farmer.pk))
    assert NEW not in str(entry.changes)


def test_own_password_change_through_the_api(api_as, farmer):
    response = api_as(farmer).post(
        "/api/auth/password/",
        {"old_password": PASSWORD, "new_password": NEW},
        REMOTE_ADDR=ADDRESS,
    )

    assert response.status_code == 200
    entry = only_entry(AuditAction.PASSWORD_CHANGED)
    assert (entry.actor, entry.subject, entry.client_address) == (farmer, farmer, ADDRESS)


def test_a_refused_password_change_is_not_audited(api_as, farmer):
    response = api_as(farmer).post(
        "/api/auth/password/", {"old_password": "wrong", "new_password": NEW}
    )

    assert response.status_code == 400
    assert not AuditEntry.objects.exists()


def test_an_administrator_setting_a_password_in_the_admin(client, admin_user, farmer):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)

    response = client.post(
        f"/admin/accounts/user/{farmer.pk}/password/",
        {"usable_password": "true", "password1": NEW, "password2": NEW},
        REMOTE_ADDR=ADDRESS,
    )

    assert response.status_code == 302
    entry = only_entry(AuditAction.PASSWORD_SET_BY_OTHER)
    assert (entry.actor, entry.subject, entry.client_address) == (admin_user, farmer, ADDRESS)


def test_the_admin_user_page_audits_deactivation_rights_and_phone(client, admin_user):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    person = UserFactory(role=Role.BUYER, phone="+8613700137000")
    client.force_login(admin_user)
    page = client.get(f"/admin/accounts/user/{person.pk}/change/")
    data = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if value is not None and key not in ("groups", "user_permissions", "password")
    }
    data.update(
        {
            "is_active": "",
            "is_staff": "on",
            "phone": "13900139000",
            "date_joined_0": person.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": person.date_joined.strftime("%H:%M:%S"),
            "last_login_0": "",
            "last_login_1": "",
        }
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data = {key: value for key, value in data.items() if value is not False}

    response = client.post(f"/admin/accounts/user/{person.pk}/change/", data, REMOTE_ADDR=ADDRESS)

    assert response.status_code == 302, response.content.decode()[:2000]
    person.refresh_from_db()
    assert not person.is_active
    assert person.is_staff
    actions = sorted(AuditEntry.objects.filter(subject=person).values_list("action", flat=True))
    assert actions == sorted(
        [
            AuditAction.ACCOUNT_DEACTIVATED,
            AuditAction.ADMIN_RIGHTS_CHANGED,
            AuditAction.PHONE_CHANGED,
        ]
    )
    assert only_entry(AuditAction.ACCOUNT_DEACTIVATED).changes == {"is_active": [True, False]}
    assert only_entry(AuditAction.ADMIN_RIGHTS_CHANGED).changes == {"is_staff": [False, True]}
    assert only_entry(AuditAction.PHONE_CHANGED).changes == {
        "phone": ["137****7000", "139****9000"]
    }
    assert {entry.actor for entry in AuditEntry.objects.filter(subject=person)} == {admin_user}
    assert set(
        AuditEntry.objects.filter(subject=person).values_list("client_address", flat=True)
    ) == {ADDRESS}


def test_an_account_created_in_the_admin(client, admin_user):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)

    client.post(
        "/admin/accounts/user/add/",
        {"username": "newcomer", "usable_password": "true", "password1": NEW, "password2": NEW},
    )

    newcomer = User.objects.get(username="newcomer")
    entry = only_entry(AuditAction.ACCOUNT_CREATED)
    assert (entry.actor, entry.subject) == (admin_user, newcomer)
    assert entry.changes["is_superuser"] == [None, False]
