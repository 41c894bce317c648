"""The sign-up page: a number, a code from the SMS, a name, a password and consent open a
consumer or buyer account and sign her in."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.choices import AuditAction, Role
from accounts.models import AuditEntry, Consent, User
from accounts.privacy import POLICY_VERSION
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    """A browser that reads English (assertions read the source strings)."""
    return Client(headers={"Accept-Language": "en"})


NEW_NUMBER = "139 1234 5678"
NORMAL = "+8613912345678"
GOOD_PASSWORD = "green-cabbage-2026"


def send(client, phone=NEW_NUMBER, **extra):
    return client.post(reverse("accounts:sign_up"), {"phone": phone, "send_code": "1", **extra})


def sign_up(client, code, **overrides):
    data = {
        "account_type": "consumer",
        "phone": NEW_NUMBER,
        "code": code,
        "display_name": "林小姐",
        "password": GOOD_PASSWORD,
        "agree": "on",
        **overrides,
    }
    return client.post(reverse("accounts:sign_up"), data)


def test_consumer_signs_up_with_a_code_and_lands_in_her_workspace(client, sms_outbox):
    page = client.get(reverse("accounts:sign_up"), {"phone": NEW_NUMBER})
    assert page.status_code == 200
    assert NEW_NUMBER in page.content.decode()

    sent = send(client)
    assert sent.status_code == 200
    assert 'data-testid="code-sent"' in sent.content.decode()
    assert "139****5678" in sent.content.decode()

    answer = sign_up(client, sms_outbox.last_code(NEW_NUMBER))

    assert answer.status_code == 302
    assert answer["Location"] == reverse("accounts:workspace")
    user = User.objects.get(phone=NORMAL)
    assert user.role == Role.CONSUMER
    assert user.display_name == "林小姐"
    assert user.check_password(GOOD_PASSWORD)
    assert NORMAL not in user.username
    assert "林" not in user.username
    assert Consent.objects.filter(user=user, policy_version=POLICY_VERSION).exists()
    actions = set(AuditEntry.objects.filter(subject=user).values_list("action", flat=True))
    assert {AuditAction.SIGNED_UP, AuditAction.CONSENT_GIVEN} <= actions
    workspace = client.get(reverse("accounts:workspace"), follow=True)
    assert workspace.status_code == 200
    assert workspace.context["user"] == user


def test_buyer_signs_up_and_goes_to_next(client, sms_outbox):
    send(client)
    answer = sign_up(
        client, sms_outbox.last_code(NEW_NUMBER), account_type="buyer", next="/notifications/"
    )
    assert answer["Location"] == "/notifications/"
    assert User.objects.get(phone=NORMAL).role == Role.BUYER


def test_next_to_another_site_is_ignored(client, sms_outbox):
    send(client)
    answer = sign_up(client, sms_outbox.last_code(NEW_NUMBER), next="https://evil.example/")
    assert answer["Location"] == reverse("accounts:workspace")


@pytest.mark.parametrize("role", [Role.FARMER, Role.ADMIN, Role.COURIER, "boss"])
def test_no_other_role_can_be_chosen(client, sms_outbox, role):
    send(client)
    answer = sign_up(client, sms_outbox.last_code(NEW_NUMBER), account_type=role)
    assert answer.status_code == 200
    assert answer.context["form"].errors["account_type"]
    assert not User.objects.filter(phone=NORMAL).exists()


def test_wrong_code_is_a_field_error_and_saves_nothing(client, sms_outbox):
    send(client)
    right = sms_outbox.last_code(NEW_NUMBER)
    wrong = "000000" if right != "000000" else "111111"
    answer = sign_up(client, wrong)
    assert answer.status_code == 400
    assert answer.context["form"].errors["code"] == [
        "This code is not right. Check the text message and try again."
    ]
    assert not User.objects.filter(phone=NORMAL).exists()
    assert not Consent.objects.exists()


def test_the_page_and_its_errors_are_in_chinese(sms_outbox):
    chinese = Client(headers={"Accept-Language": "zh-hans"})
    page = chinese.get(reverse("accounts:sign_up"))
    assert "注册" in page.content.decode()
    assert "获取验证码" in page.content.decode()
    answer = send(chinese, phone="12345")
    assert answer.context["form"].errors["phone"] == [
        "请输入中国大陆手机号：以 1 开头的 11 位数字，如 138 0013 8000。"
    ]


def test_weak_password_keeps_the_code_for_a_second_try(client, sms_outbox):
    send(client)
    code = sms_outbox.last_code(NEW_NUMBER)
    weak = sign_up(client, code, password="12345678")
    assert weak.status_code == 400
    assert weak.context["form"].errors["password"]
    assert not User.objects.filter(phone=NORMAL).exists()
    assert sign_up(client, code).status_code == 302


def test_without_consent_nothing_is_saved(client, sms_outbox):
    send(client)
    data_without_agree = sign_up(client, sms_outbox.last_code(NEW_NUMBER), agree="")
    assert data_without_agree.status_code == 200
    assert data_without_agree.context["form"].errors["agree"] == [
        "Agree to the privacy policy to create an account."
    ]
    assert not User.objects.filter(phone=NORMAL).exists()


def test_invalid_number_is_a_field_error_and_sends_nothing(client, sms_outbox):
    answer = send(client, phone="12345")
    assert answer.context["form"].errors["phone"]
    assert "code" not in answer.context["form"].errors
    assert sms_outbox.messages_to("12345") == []


def test_registered_number_gets_the_same_page_and_a_notice_instead_of_a_code(client, sms_outbox):
    registered_number, other = "+8613712340001", "+8613712340002"
    UserFactory(phone=registered_number)
    registered = send(client, phone=registered_number)
    unregistered = send(client, phone=other)

    def visible(response):
        page = response.content.decode()
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
        return page.replace("0001", "N").replace("0002", "N")

    assert registered.status_code == unregistered.status_code == 200
    assert visible(registered) == visible(unregistered)
    assert "already have" in sms_outbox.messages_to(registered_number)[-1]
    with pytest.raises(AssertionError):
        sms_outbox.last_code(registered_number)
    assert sms_outbox.last_code(other)
