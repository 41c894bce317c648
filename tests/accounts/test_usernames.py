"""Usernames are unique regardless of case; sign-in matches them in any case."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.test import Client
from django.utils import translation

from accounts.models import User
from tests.accounts.factories import PASSWORD, UserFactory


@pytest.mark.django_db
def test_database_refuses_a_username_differing_only_in_case():
    UserFactory(username="zhang")

    with pytest.raises(IntegrityError):
        UserFactory(username="Zhang")


@pytest.mark.django_db
def test_full_clean_names_the_username_field():
    UserFactory(username="zhang")
    user = User(username="Zhang", password="x")

    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            user.full_clean()

        assert refused.value.message_dict["username"] == [
            "A user with that username already exists."
        ]


@pytest.mark.django_db
def test_renaming_to_a_case_variant_in_the_admin_is_a_field_error(client, admin_user):
    UserFactory(username="zhang")
    other = UserFactory(username="li")
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    page = client.get(f"/admin/accounts/user/{other.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(username="ZHANG", role=other.role, weight_unit=other.weight_unit)
    data.pop("groups", None)
    data.pop("user_permissions", None)
    data.pop("password", None)
    data.pop("last_login", None)
    data.pop("date_joined", None)
    data.update({"date_joined_0": "2026-05-01", "date_joined_1": "08:00:00"})

    response = client.post(
        f"/admin/accounts/user/{other.pk}/change/", data, headers={"Accept-Language": "en"}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["username"] == [
        "A user with that username already exists."
    ]
    other.refresh_from_db()
    assert other.username == "li"


@pytest.mark.django_db
def test_sign_in_matches_a_username_in_any_case():
    user = UserFactory(username="zhang")
    client = Client()

    response = client.post("/sign-in/", {"username": "ZHANG", "password": PASSWORD})

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


@pytest.mark.django_db
def test_token_for_a_username_in_another_case(api_client):
    UserFactory(username="zhang")

    response = api_client.post("/api/auth/token/", {"username": "Zhang", "password": PASSWORD})

    assert response.status_code == 200


@pytest.mark.django_db
def test_the_migration_names_existing_usernames_that_clash():
    migration = importlib.import_module("accounts.migrations.0003_username_case_and_first_password")
    constraint = next(
        c for c in User._meta.constraints if c.name == "user_username_case_insensitive_unique"
    )
    with connection.schema_editor() as editor:  # undone with the test's transaction
        editor.remove_constraint(User, constraint)
    UserFactory(username="zhang")
    UserFactory(username="Zhang")
    UserFactory(username="li")

    with pytest.raises(RuntimeError, match=r"differ only in case: Zhang, zhang\. Rename"):
        migration.refuse_usernames_differing_only_in_case(apps, None)
