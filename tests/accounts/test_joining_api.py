"""The API doors of joining: codes, sign-up, sign-in with a code, password reset, a new number."""

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.choices import AuditAction, Role
from accounts.models import AuditEntry, Consent, PhoneCode, User
from accounts.privacy import POLICY_VERSION
from accounts.services.passwords import issue_api_token
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_client() -> APIClient:
    """An API client that reads English (assertions read the source strings)."""
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


GOOD_PASSWORD = "green-cabbage-2026"


def ask_code(api_client, phone, purpose="sign_up"):
    return api_client.post("/api/auth/codes/", {"phone": phone, "purpose": purpose}, format="json")


def test_consumer_signs_up_through_the_api_and_her_token_works(api_client, sms_outbox):
    phone = "+8613966660001"
    sent = ask_code(api_client, "139 6666 0001")
    assert sent.status_code == 200
    assert sent.json()["sent_to"] == "139****0001"
    assert sent.json()["resend_after_seconds"] == 60

    answer = api_client.post(
        "/api/auth/sign-up/",
        {
            "phone": phone,
            "code": sms_outbox.last_code(phone),
            "display_name": "林小姐",
            "password": GOOD_PASSWORD,
            "account_type": "consumer",
            "agree": True,
        },
        format="json",
    )

    assert answer.status_code == 201, answer.json()
    me = api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {answer.json()['token']}")
    assert me.json()["role"] == Role.CONSUMER
    user = User.objects.get(phone=phone)
    assert Consent.objects.filter(user=user, policy_version=POLICY_VERSION).exists()


def test_sign_up_with_a_wrong_code_is_a_field_error_and_saves_nothing(api_client, sms_outbox):
    phone = "+8613966660002"
    ask_code(api_client, phone)
    code = sms_outbox.last_code(phone)
    answer = api_client.post(
        "/api/auth/sign-up/",
        {
            "phone": phone,
            "code": "000000" if code != "000000" else "111111",
            "display_name": "x",
            "password": GOOD_PASSWORD,
            "agree": True,
        },
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "code": ["This code is not right. Check the text message and try again."]
    }
    assert not User.objects.filter(phone=phone).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("phone", "12345"), ("code", "12ab56"), ("account_type", "farmer"), ("agree", "maybe")],
)
def test_bad_input_names_its_field_and_saves_nothing(api_client, field, value):
    body = {
        "phone": "+8613966660003",
        "code": "123456",
        "display_name": "x",
        "password": GOOD_PASSWORD,
        "agree": True,
        field: value,
    }
    answer = api_client.post("/api/auth/sign-up/", body, format="json")
    assert answer.status_code == 400
    assert field in answer.json()
    assert not User.objects.filter(phone="+8613966660003").exists()


def test_sign_up_without_consent_is_refused(api_client, sms_outbox):
    phone = "+8613966660004"
    ask_code(api_client, phone)
    body = {
        "phone": phone,
        "code": sms_outbox.last_code(phone),
        "display_name": "x",
        "password": GOOD_PASSWORD,
        "agree": False,
    }
    answer = api_client.post("/api/auth/sign-up/", body, format="json")
    assert answer.status_code == 400
    assert answer.json() == {"agree": ["Agree to the privacy policy to create an account."]}


def test_second_code_within_a_minute_is_429_with_the_seconds_to_wait(api_client, sms_outbox):
    ask_code(api_client, "+8613966660005")
    again = ask_code(api_client, "+8613966660005")
    assert again.status_code == 429
    assert 55 <= int(again["Retry-After"]) <= 60
    assert "seconds" in again.json()["phone"][0]


def test_the_answer_does_not_tell_which_numbers_have_accounts(api_client, sms_outbox):
    UserFactory(phone="+8613966660006")
    for purpose in ("sign_up", "sign_in", "password_reset"):
        PhoneCode.objects.all().delete()
        known = ask_code(api_client, "+8613966660006", purpose)
        unknown = ask_code(api_client, "+8613966660007", purpose)
        assert known.status_code == unknown.status_code == 200
        assert {**known.json(), "sent_to": "", "expires_at": ""} == {
            **unknown.json(),
            "sent_to": "",
            "expires_at": "",
        }


def test_sign_in_with_a_code_answers_a_token(api_client, sms_outbox):
    user = UserFactory(phone="+8613966660008", role=Role.FARMER)
    ask_code(api_client, user.phone, "sign_in")
    answer = api_client.post(
        "/api/auth/token/code/",
        {"phone": user.phone, "code": sms_outbox.last_code(user.phone)},
        format="json",
    )
    assert answer.status_code == 200
    me = api_client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {answer.json()['token']}")
    assert me.json()["id"] == user.pk


def test_password_reset_revokes_tokens_and_is_audited(api_client, sms_outbox):
    user = UserFactory(phone="+8613966660009")
    issue_api_token(user=user)
    ask_code(api_client, user.phone, "password_reset")
    answer = api_client.post(
        "/api/auth/password/reset/",
        {"phone": user.phone, "code": sms_outbox.last_code(user.phone), "new_password": "1"},
        format="json",
    )
    assert answer.status_code == 400
    assert "new_password" in answer.json()
    answer = api_client.post(
        "/api/auth/password/reset/",
        {
            "phone": user.phone,
            "code": sms_outbox.last_code(user.phone),
            "new_password": GOOD_PASSWORD,
        },
        format="json",
    )
    assert answer.status_code == 204
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)
    assert not AuthToken.objects.filter(user=user).exists()
    assert AuditEntry.objects.filter(subject=user, action=AuditAction.PASSWORD_RESET).exists()


def test_phone_change_needs_a_signed_in_person(api_client):
    assert api_client.post("/api/me/phone/code/", {"phone": "13966660010"}).status_code == 401
    assert (
        api_client.post("/api/me/phone/", {"phone": "13966660010", "code": "123456"}).status_code
        == 401
    )


@pytest.mark.parametrize("role", [Role.CONSUMER, Role.COURIER, Role.FARMER])
def test_each_role_changes_only_her_own_number(api_as, sms_outbox, role):
    me = UserFactory(role=role)
    other = UserFactory()
    new = "+8613966660011"
    client = api_as(me)
    assert client.post("/api/me/phone/code/", {"phone": new}, format="json").status_code == 200
    answer = client.post(
        "/api/me/phone/", {"phone": new, "code": sms_outbox.last_code(new)}, format="json"
    )
    assert answer.status_code == 200
    assert answer.json()["phone"] == new
    me.refresh_from_db()
    other_phone = other.phone
    other.refresh_from_db()
    assert me.phone == new
    assert other.phone == other_phone
    entry = AuditEntry.objects.get(subject=me, action=AuditAction.PHONE_CHANGED)
    assert entry.changes["phone"][1] == "139****0011"


def test_a_number_in_use_cannot_be_taken(api_as, sms_outbox):
    me = UserFactory()
    taken = UserFactory(phone="+8613966660012")
    client = api_as(me)
    client.post("/api/me/phone/code/", {"phone": taken.phone}, format="json")
    assert "already belongs" in sms_outbox.messages_to(taken.phone)[-1]
    answer = client.post("/api/me/phone/", {"phone": taken.phone, "code": "123456"}, format="json")
    assert answer.status_code == 400
    me.refresh_from_db()
    assert me.phone != taken.phone


def test_password_sign_in_still_works_after_sign_up(api_client):
    user = UserFactory(phone="+8613966660013")
    answer = api_client.post(
        "/api/auth/token/", {"username": "139 6666 0013", "password": PASSWORD}, format="json"
    )
    assert answer.status_code == 200
    assert user.pk
