"""GET /api/audit/: the platform admin's audit log through the API, with the page's filters."""

import pytest

from accounts.choices import AuditAction, Role
from accounts.services.audit import record_audit
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [role for role in Role.values if role != Role.ADMIN])
def test_every_other_role_is_refused(api_as, role):
    record_audit(action=AuditAction.SIGN_IN)

    response = api_as(UserFactory(role=role)).get("/api/audit/")

    assert response.status_code == 403


def test_without_a_token_it_is_401(api_client):
    assert api_client.get("/api/audit/").status_code == 401


def test_the_admin_lists_and_filters_the_log(api_as, admin_user, farmer, buyer):
    signed_in = record_audit(
        action=AuditAction.SIGN_IN, actor=farmer, subject=farmer, address="10.2.0.1"
    )
    changed = record_audit(
        action=AuditAction.PHONE_CHANGED,
        actor=admin_user,
        subject=buyer,
        target=buyer,
        changes={"phone": ("+8613800138000", "+8613900139001")},
        address="10.2.0.2",
    )
    client = api_as(admin_user)

    everything = client.get("/api/audit/").json()
    by_subject = client.get("/api/audit/", {"subject": buyer.phone}).json()
    by_address = client.get("/api/audit/", {"address": "10.2.0.1"}).json()
    by_action = client.get("/api/audit/", {"action": "phone_changed"}).json()

    assert [row["id"] for row in everything["results"]] == [changed.pk, signed_in.pk]
    assert everything["results"][0] == {
        "id": changed.pk,
        "at": everything["results"][0]["at"],
        "action": "phone_changed",
        "action_label": "更换手机号码",  # the default language
        "actor": admin_user.pk,
        "subject": buyer.pk,
        "object_type": "accounts.user",
        "object_id": str(buyer.pk),
        "object_label": "",
        "changes": {"phone": ["138****8000", "139****9001"]},
        "client_address": "10.2.0.2",
    }
    assert [row["id"] for row in by_subject["results"]] == [changed.pk]
    assert [row["id"] for row in by_address["results"]] == [signed_in.pk]
    assert [row["id"] for row in by_action["results"]] == [changed.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"actor": "nobody-here"}, "actor"),
        ({"action": "dance"}, "action"),
        ({"address": "10.0.0"}, "address"),
        ({"since": "2026-03-05", "until": "2026-03-01"}, "until"),
    ],
)
def test_bad_filters_are_400_on_their_field(api_as, admin_user, params, field):
    response = api_as(admin_user).get("/api/audit/", params)

    assert response.status_code == 400
    assert field in response.json()


def test_the_schema_documents_it(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/api/audit/"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"action", "actor", "subject", "since", "until", "address", "page"} <= names
