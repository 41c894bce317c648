"""The permission helpers every app's doors use."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from accounts.choices import Role
from accounts.models import User
from accounts.permissions import HasRole, get_visible_or_404, role_required
from tests.accounts.factories import UserFactory


@role_required(Role.FARMER, Role.COOPERATIVE_MANAGER)
def record_harvest_page(request):
    return HttpResponse("harvest form")


class RecordHarvestApi(APIView):
    permission_classes = [HasRole.of(Role.FARMER, Role.COOPERATIVE_MANAGER)]

    def get(self, request):
        return HttpResponse("harvest api")


def open_page_as(user):
    request = RequestFactory().get("/harvest/")
    request.user = user
    return record_harvest_page(request)


def call_api_as(user):
    request = APIRequestFactory().get("/api/harvest/")
    if user is not None:
        force_authenticate(request, user=user)
    return RecordHarvestApi.as_view()(request)


@pytest.mark.django_db
def test_role_required_lets_the_named_roles_in(farmer, cooperative_manager):
    assert open_page_as(farmer).content == b"harvest form"
    assert open_page_as(cooperative_manager).content == b"harvest form"


@pytest.mark.django_db
def test_role_required_refuses_other_roles_with_403(buyer):
    with pytest.raises(PermissionDenied):
        open_page_as(buyer)


@pytest.mark.django_db
def test_role_required_refuses_a_deactivated_user():
    with pytest.raises(PermissionDenied):
        open_page_as(UserFactory(role=Role.FARMER, is_active=False))


@pytest.mark.django_db
def test_role_required_lets_platform_admins_in(admin_user):
    assert open_page_as(admin_user).content == b"harvest form"


def test_role_required_sends_anonymous_visitors_to_sign_in():
    response = open_page_as(AnonymousUser())

    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=/harvest/"


@pytest.mark.django_db
def test_has_role_lets_the_named_roles_and_admins_in(farmer, admin_user):
    assert call_api_as(farmer).status_code == 200
    assert call_api_as(admin_user).status_code == 200


@pytest.mark.django_db
def test_has_role_refuses_other_roles_with_403(courier):
    assert call_api_as(courier).status_code == 403


def test_has_role_refuses_anonymous_callers_with_401():
    response = call_api_as(None)

    assert response.status_code == 401


@pytest.mark.django_db
def test_get_visible_or_404_returns_an_object_the_user_may_see(farmer):
    assert get_visible_or_404(User.objects.filter(role=Role.FARMER), pk=farmer.pk) == farmer


@pytest.mark.django_db
def test_get_visible_or_404_hides_an_object_outside_the_users_reach(farmer, buyer):
    # The buyer exists, but not in what this caller may see: 404, not 403.
    with pytest.raises(Http404):
        get_visible_or_404(User.objects.filter(role=Role.FARMER), pk=buyer.pk)


@pytest.mark.django_db
def test_get_visible_or_404_treats_a_missing_object_the_same():
    with pytest.raises(Http404):
        get_visible_or_404(User.objects.all(), pk=0)
