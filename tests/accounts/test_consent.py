"""After a new version of the privacy policy, a signed-in person is asked once to agree."""

import pytest
from django.urls import reverse

from accounts.choices import AuditAction
from accounts.models import AuditEntry, Consent, User
from accounts.privacy import POLICY_VERSION
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_person_without_consent_is_asked_before_her_workspace_and_then_goes_on(client):
    user = UserFactory(consented=False)
    client.force_login(user)

    asked = client.get("/notifications/")
    assert asked.status_code == 302
    assert asked["Location"].startswith(reverse("accounts:consent"))
    page = client.get(asked["Location"])
    assert POLICY_VERSION in page.content.decode()

    refused = client.post(asked["Location"], {})
    assert refused.status_code == 200
    assert refused.context["form"].errors["agree"]
    assert not Consent.objects.filter(user=user).exists()

    agreed = client.post(asked["Location"], {"agree": "on", "next": "/notifications/"})
    assert agreed["Location"] == "/notifications/"
    assert Consent.objects.filter(user=user, policy_version=POLICY_VERSION).count() == 1
    assert AuditEntry.objects.filter(subject=user, action=AuditAction.CONSENT_GIVEN).exists()
    assert client.get("/notifications/").status_code == 200


def test_person_who_agreed_is_not_asked(client):
    client.force_login(UserFactory())
    assert client.get("/notifications/").status_code == 200


def test_the_policy_and_the_api_stay_open(client, api_as):
    user = UserFactory(consented=False)
    client.force_login(user)
    assert client.get(reverse("accounts:privacy_policy")).status_code == 200
    assert api_as(user).get("/api/me/").status_code == 200


def test_privacy_policy_is_public_and_in_both_languages(client):
    english = client.get(reverse("accounts:privacy_policy"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Your rights" in english.content.decode()
    assert POLICY_VERSION in english.content.decode()
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(reverse("accounts:privacy_policy"))
    assert "您的权利" in chinese.content.decode()


def test_every_demo_person_has_agreed_and_seeding_twice_adds_nothing():
    from accounts import demo

    demo.seed({})
    demo.seed({})
    people = User.objects.filter(username__in=[p.username for p in demo.DEMO_PEOPLE])
    assert people.count() == len(demo.DEMO_PEOPLE)
    assert Consent.objects.filter(user__in=people, policy_version=POLICY_VERSION).count() == len(
        demo.DEMO_PEOPLE
    )
