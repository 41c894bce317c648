"""API errors are JSON, with messages in the caller's language."""

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts.models import User
from common.exceptions import ConflictError, DomainError


class LotAlreadySold(ConflictError):
    default_message = _("This lot is already sold.")


class RefusingApi(APIView):
    """Stands in for any app's API view whose service refuses the request."""

    authentication_classes = []
    permission_classes = []
    refusal: Exception = DomainError()

    def post(self, request):
        raise self.refusal


class SavingInvalidUserApi(APIView):
    authentication_classes = []
    permission_classes = []

    def post(self, request):
        User(username="wang", phone="+1 415 555 0100").full_clean(exclude=["password"])
        return Response({})


def post_to(view, *, language="en"):
    # A request factory skips LocaleMiddleware, so activate the language it would pick.
    request = APIRequestFactory().post("/api/x/", {}, format="json")
    with translation.override(language):
        return view(request)


@pytest.mark.parametrize(
    ("language", "message"), [("en", "This field is required."), ("zh-hans", "该字段是必填项。")]
)
@pytest.mark.django_db
def test_missing_field_is_reported_in_the_callers_language(api_client, language, message):
    response = api_client.post(
        "/api/auth/token/", {"username": "13800138000"}, headers={"Accept-Language": language}
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"password": [message]}


@pytest.mark.django_db
def test_api_errors_are_chinese_when_the_caller_names_no_language(api_client):
    response = api_client.get("/api/me/")

    assert response.status_code == 401
    assert response.json() == {"detail": "身份认证信息未提供。"}


def test_domain_error_on_a_field_is_a_400_field_error():
    view = RefusingApi.as_view(refusal=DomainError(_("Too late to harvest."), field="harvested_on"))

    response = post_to(view)

    assert response.status_code == 400
    assert response.data == {"harvested_on": ["Too late to harvest."]}


def test_conflict_error_is_a_409_with_a_detail():
    response = post_to(RefusingApi.as_view(refusal=LotAlreadySold()))

    assert response.status_code == 409
    assert response.data == {"detail": "This lot is already sold."}


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Ensure this value has at most 14 characters (it has 15)."),
        ("zh-hans", "确保该变量包含不超过 14 字符 (目前字符数 15)。"),
    ],
)
@pytest.mark.django_db
def test_model_validation_error_is_a_400_with_translated_field_messages(language, message):
    response = post_to(SavingInvalidUserApi.as_view(), language=language)

    assert response.status_code == 400
    assert message in response.data["phone"]
