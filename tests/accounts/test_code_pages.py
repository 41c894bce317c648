"""The pages that take a code: sign-in with a code, password reset, a new phone number."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse

from accounts.choices import AuditAction, Role
from accounts.models import AuditEntry, PhoneCode
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    return Client(headers={"Accept-Language": "en"})


def send(client, url, phone):
    return client.post(url, {"phone": phone, "send_code": "1"})


def test_sign_in_with_a_code_lands_on_next(client, sms_outbox):
    user = UserFactory(phone="+8613977770001", role=Role.FARMER)
    url = reverse("accounts:sign_in_with_code")
    assert send(client, url, "13977770001").status_code == 200
    answer = client.post(
        url,
        {
            "phone": "13977770001",
            "code": sms_outbox.last_code(user.phone),
            "next": "/notifications/",
        },
    )
    assert answer["Location"] == "/notifications/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_an_expired_code_does_not_sign_in(client, sms_outbox):
    user = UserFactory(phone="+8613977770002")
    url = reverse("accounts:sign_in_with_code")
    send(client, url, user.phone)
    PhoneCode.objects.update(
        sent_at=F("sent_at") - timedelta(minutes=6),
        expires_at=F("expires_at") - timedelta(minutes=6),
    )
    answer = client.post(url, {"phone": user.phone, "code": sms_outbox.last_code(user.phone)})
    assert answer.status_code == 400
    assert answer.context["form"].errors["code"] == ["This code has expired; ask for a new one."]
    assert "_auth_user_id" not in client.session


def test_a_reused_code_is_refused(client, sms_outbox):
    user = UserFactory(phone="+8613977770003")
    url = reverse("accounts:password_reset")
    send(client, url, user.phone)
    code = sms_outbox.last_code(user.phone)
    data = {"phone": user.phone, "code": code, "new_password": "fresh-river-stone-9"}
    assert client.post(url, data).status_code == 302
    again = client.post(url, {**data, "new_password": "other-river-stone-9"})
    assert again.context["form"].errors["code"] == [
        "This code was used already; ask for a new one."
    ]
    user.refresh_from_db()
    assert user.check_password("fresh-river-stone-9")
    assert AuditEntry.objects.filter(subject=user, action=AuditAction.PASSWORD_RESET).count() == 1


def test_second_send_within_a_minute_says_how_long_to_wait(client, sms_outbox):
    url = reverse("accounts:password_reset")
    send(client, url, "13977770004")
    again = send(client, url, "13977770004")
    assert again.status_code == 429
    [message] = again.context["form"].errors["phone"]
    assert "seconds" in message


def test_phone_change_moves_her_account_to_the_new_number(client, sms_outbox):
    user = UserFactory(phone="+8613977770005")
    client.force_login(user)
    url = reverse("accounts:phone_change")
    page = client.get(url)
    assert "139****0005" in page.content.decode()
    send(client, url, "13977770006")
    answer = client.post(
        url, {"phone": "13977770006", "code": sms_outbox.last_code("+8613977770006")}
    )
    assert answer.status_code == 302
    user.refresh_from_db()
    assert user.phone == "+8613977770006"
    entry = AuditEntry.objects.get(subject=user, action=AuditAction.PHONE_CHANGED)
    assert entry.changes == {"phone": ["139****0005", "139****0006"]}
    # She signs in with the new number from now on.
    signed_in = client.post(
        "/sign-in/", {"username": "139 7777 0006", "password": PASSWORD}, follow=False
    )
    assert signed_in.status_code == 302


def test_phone_change_needs_sign_in(client):
    answer = client.get(reverse("accounts:phone_change"))
    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("accounts:sign_in"))


def test_sign_in_page_links_to_code_sign_in_reset_and_sign_up(client):
    page = client.get(reverse("accounts:sign_in")).content.decode()
    for name in ("sign_in_with_code", "password_reset", "sign_up"):
        assert f'href="{reverse("accounts:" + name)}' in page
