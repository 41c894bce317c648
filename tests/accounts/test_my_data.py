"""The "My data" page and its API twins: every signed-in person sees, downloads (JSON, PDF),
corrects and deletes only her own data; every export and correction is audited; deletion
refuses with money in the wallet and says how much."""

import json

import pypdfium2
import pytest
from django.test import Client
from knox.models import AuthToken

from accounts.choices import AuditAction, Role
from accounts.models import AuditEntry, User
from accounts.navigation import navigation_for
from accounts.services.passwords import issue_api_token
from tests.accounts.factories import PASSWORD, UserFactory, authenticate
from tests.delivery.factories import fund_wallet

pytestmark = pytest.mark.django_db

PAGE = "/account/data/"
API = "/api/me/data/"


@pytest.fixture
def her(db):
    return UserFactory(
        role=Role.CONSUMER, display_name="闾丘沁蕾", phone="+8615912345678", email="q@example.com"
    )


@pytest.fixture
def someone_else(db):
    return UserFactory(role=Role.CONSUMER, display_name="公孙无忌", phone="+8615987654321")


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", Role.values)
def test_every_role_has_my_data_in_its_menu_and_the_page_opens(role):
    user = UserFactory(role=role)

    assert "accounts:my_data" in [entry.url_name for entry in navigation_for(user)]
    response = _client(user).get(PAGE)
    assert response.status_code == 200
    assert 'href="/account/data/"' in response.content.decode()


def test_signed_out_people_are_sent_to_sign_in(api_client):
    assert Client().get(PAGE).status_code == 302
    assert api_client.get(API).status_code in (401, 403)


def test_the_page_shows_her_sections_and_only_her_data(her, someone_else):
    page = _client(her).get(PAGE).content.decode()

    for label in (
        "Account and sign-in",
        "Money: wallet, cards and their postings",
        "Shop orders and deliveries",
    ):
        assert label in page
    assert "闾丘沁蕾" in page
    assert "+8615912345678" in page
    assert "公孙无忌" not in page
    assert "15987654321" not in page


def test_json_download_holds_her_sections_and_is_audited(her, someone_else):
    response = _client(her).post(f"{PAGE}export.json")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert {
        "account",
        "farms",
        "settlement",
        "marketplace",
        "coldchain",
        "delivery",
        "traceability",
    } <= set(data)
    assert data["account"]["profile"]["phone"] == "+8615912345678"
    assert data["account"]["profile"]["display_name"] == "闾丘沁蕾"
    assert "公孙无忌" not in response.content.decode()
    entry = AuditEntry.objects.get(action=AuditAction.DATA_EXPORTED)
    assert (entry.actor_id, entry.subject_id) == (her.pk, her.pk)


def test_pdf_download_is_a_pdf_with_her_name(her):
    fund_wallet(her, "12.30")
    response = _client(her).post(f"{PAGE}export.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    document = pypdfium2.PdfDocument(response.content)
    text = "".join(page.get_textpage().get_text_range() for page in document)
    assert "闾丘沁蕾" in text
    assert "+8615912345678" in text
    assert "12.30" in text


def test_api_export_is_hers_alone(api_as, her, someone_else):
    answer = api_as(her).get(API)

    assert answer.status_code == 200
    assert answer.json()["account"]["profile"]["id"] == her.pk
    assert "公孙无忌" not in answer.content.decode()
    pdf = api_as(her).get(f"{API}pdf/")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert AuditEntry.objects.filter(action=AuditAction.DATA_EXPORTED, subject=her).count() == 2


def test_she_corrects_her_names_and_email_and_the_audit_keeps_no_name(api_as, her):
    response = api_as(her).patch(
        API,
        {"display_name": "沁蕾", "last_name": "闾丘", "email": "new@example.com"},
        format="json",
    )

    assert response.status_code == 200
    her.refresh_from_db()
    assert (her.display_name, her.last_name, her.email) == ("沁蕾", "闾丘", "new@example.com")
    entry = AuditEntry.objects.get(action=AuditAction.PERSONAL_DATA_CORRECTED)
    assert "沁蕾" not in json.dumps(entry.changes, ensure_ascii=False)
    assert "new@example.com" not in json.dumps(entry.changes)
    assert set(entry.changes) == {"display_name", "last_name", "email"}


def test_a_bad_email_is_refused_on_its_field_and_nothing_is_saved(api_as, her):
    answer = api_as(her).patch(API, {"email": "not-an-email", "display_name": "X"}, format="json")
    page = _client(her).post(f"{PAGE}correct/", {"email": "not-an-email", "display_name": "X"})

    assert answer.status_code == 400
    assert "email" in answer.json()
    assert page.status_code == 400
    assert "Enter a valid email address." in page.content.decode()
    her.refresh_from_db()
    assert (her.display_name, her.email) == ("闾丘沁蕾", "q@example.com")
    assert not AuditEntry.objects.filter(action=AuditAction.PERSONAL_DATA_CORRECTED).exists()


def test_the_page_corrects_her_display_name(her):
    response = _client(her).post(
        f"{PAGE}correct/",
        {"display_name": "小蕾", "first_name": "", "last_name": "", "email": "q@example.com"},
        follow=True,
    )

    assert "Your details are corrected." in response.content.decode()
    her.refresh_from_db()
    assert her.display_name == "小蕾"


def test_deleting_with_money_in_the_wallet_is_refused_on_the_password_with_the_balance(api_as, her):
    fund_wallet(her, "12.30")

    page = _client(her).post(f"{PAGE}delete/", {"password": PASSWORD})
    answer = api_as(her).post(f"{API}delete/", {"password": PASSWORD}, format="json")

    assert page.status_code == 409
    assert "¥12.30" in page.content.decode()
    assert "withdraw it first" in page.content.decode()
    assert answer.status_code == 409
    assert "¥12.30" in answer.json()["password"][0]
    her.refresh_from_db()
    assert (her.is_active, her.phone) == (True, "+8615912345678")
    # The page warns before she tries.
    assert "deletion-blockers" in _client(her).get(PAGE).content.decode()


def test_a_wrong_password_is_refused_on_its_field(her):
    response = _client(her).post(f"{PAGE}delete/", {"password": "wrong"})

    assert response.status_code == 400
    assert "That is not your password." in response.content.decode()
    assert User.objects.get(pk=her.pk).is_active


def test_deleting_on_the_page_signs_her_out_and_pseudonymises_her(her):
    client = _client(her)

    response = client.post(f"{PAGE}delete/", {"password": PASSWORD}, follow=True)

    assert "Your account is deleted." in response.content.decode()
    gone = User.objects.get(pk=her.pk)
    assert gone.username.startswith("deleted-")
    assert (gone.phone, gone.display_name, gone.is_active) == (None, "", False)
    assert client.get(PAGE).status_code == 302  # signed out
    assert authenticate(username="+8615912345678", password=PASSWORD) is None


def test_deleting_through_the_api_revokes_her_tokens(api_client, her):
    _token, key = issue_api_token(user=her)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = api_client.post(f"{API}delete/", {"password": PASSWORD}, format="json")

    assert response.status_code == 204
    assert not AuthToken.objects.filter(user=her).exists()
    assert api_client.get(API).status_code == 401
