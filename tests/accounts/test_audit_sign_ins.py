"""Every sign-in door leaves one audit entry, with the address; a failed one keeps nothing
typed in clear."""

import json
from datetime import timedelta

import pytest
from django.test import Client

from accounts.choices import AuditAction, Role
from accounts.models import AuditEntry
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.7"


@pytest.fixture(autouse=True)
def lockout_settings(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


@pytest.fixture
def wang(db):
    return UserFactory(username="wang", phone="13800138000", role=Role.FARMER)


def everything_stored() -> str:
    """Every audit row as text, to search for what must not be there."""
    rows = AuditEntry.objects.values(
        "object_type", "object_id", "object_label", "changes", "client_address"
    )
    return json.dumps(list(rows), ensure_ascii=False, default=str)


def test_page_sign_in_is_audited_with_the_address(wang):
    response = Client().post(
        "/sign-in/", {"username": "138 0013 8000", "password": PASSWORD}, REMOTE_ADDR=ADDRESS
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.subject) == (AuditAction.SIGN_IN, wang, wang)
    assert entry.client_address == ADDRESS
    assert entry.changes == {"door": [None, "page"]}


def test_api_token_sign_in_is_audited(api_client, wang):
    response = api_client.post(
        "/api/auth/token/", {"username": "wang", "password": PASSWORD}, REMOTE_ADDR=ADDRESS
    )

    assert response.status_code == 200
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.subject) == (AuditAction.SIGN_IN, wang, wang)
    assert (entry.client_address, entry.changes) == (ADDRESS, {"door": [None, "api"]})


def test_admin_sign_in_is_audited(db):
    admin = UserFactory(role=Role.ADMIN, username="root", is_staff=True, is_superuser=True)

    response = Client().post(
        "/admin/login/?next=/admin/",
        {"username": "root", "password": PASSWORD, "next": "/admin/"},
        REMOTE_ADDR=ADDRESS,
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.subject) == (AuditAction.SIGN_IN, admin, admin)
    assert (entry.client_address, entry.changes) == (ADDRESS, {"door": [None, "admin"]})


def test_a_wrong_password_names_the_account_and_nothing_typed(wang):
    Client().post(
        "/sign-in/", {"username": "13800138000", "password": "not-it"}, REMOTE_ADDR=ADDRESS
    )

    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.subject) == (AuditAction.SIGN_IN_FAILED, None, wang)
    assert (entry.client_address, entry.changes) == (ADDRESS, {"door": [None, "page"]})
    assert "13800138000" not in everything_stored()
    assert "not-it" not in everything_stored()


def test_an_unknown_mobile_number_is_kept_masked(api_client, db):
    api_client.post(
        "/api/auth/token/", {"username": "139 1234 5678", "password": "x"}, REMOTE_ADDR=ADDRESS
    )

    entry = AuditEntry.objects.get()
    assert (entry.action, entry.subject) == (AuditAction.SIGN_IN_FAILED, None)
    assert entry.changes == {"door": [None, "api"], "phone": ["", "139****5678"]}
    assert "12345678" not in everything_stored()


def test_an_unknown_username_is_not_kept_at_all(db):
    # Perhaps her name, perhaps her password typed in the wrong box.
    Client().post("/sign-in/", {"username": "Zhang-Xiuying-1988", "password": "x"})

    entry = AuditEntry.objects.get()
    assert (entry.action, entry.subject) == (AuditAction.SIGN_IN_FAILED, None)
    assert entry.changes == {"door": [None, "page"]}
    assert "xiuying" not in everything_stored().lower()


def test_the_failure_that_locks_an_account_out_says_so(wang):
    client = Client()
    for _ in range(5):
        client.post("/sign-in/", {"username": "wang", "password": "not-it"})

    failures = list(AuditEntry.objects.order_by("id"))
    assert [entry.action for entry in failures] == [AuditAction.SIGN_IN_FAILED] * 5
    assert "locked_out" not in failures[0].changes
    assert failures[-1].changes["locked_out"] == [None, True]


def test_a_test_clients_forced_sign_in_is_no_door(client, wang):
    client.force_login(wang)

    assert not AuditEntry.objects.exists()
