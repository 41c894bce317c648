"""The API twins of the "My data" page, for the signed-in person only (no user id anywhere):
GET /api/me/data/ her copy as JSON, GET /api/me/data/pdf/ as PDF, PATCH /api/me/data/
corrections, POST /api/me/data/delete/ deleting her account."""

import json

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.addresses import client_address
from accounts.personal_data_pdf import personal_data_pdf
from accounts.services.personal_data import (
    correct_personal_data,
    delete_account,
    export_personal_data,
)

from .serializers import UserOutputSerializer

EXPORT_DESCRIPTION = _(
    "Everything the platform holds about you: `generated_at`, then one object per section "
    "(`account`, `farms`, `settlement`, `marketplace`, `coldchain`, `delivery`, "
    "`traceability`). Each export is recorded in the audit log."
)


class TextField(serializers.CharField):
    """Text only: DRF's CharField would take the number 0 as the name "0"."""

    default_error_messages = {"not_text": _("Send text.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_text")
        return super().to_internal_value(data)


class PersonalDataCorrectionInputSerializer(serializers.Serializer):
    display_name = TextField(max_length=80, required=False, allow_blank=True)
    first_name = TextField(max_length=150, required=False, allow_blank=True)
    last_name = TextField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)


class DeleteAccountInputSerializer(serializers.Serializer):
    password = TextField(
        style={"input_type": "password"}, help_text=_("Your password, to confirm it is you.")
    )


class MyDataApi(APIView):
    """Your personal data (PIPL art. 45/46): a copy, and corrections of your names and email.
    Your phone number changes with a code sent to the new number, not here."""

    @extend_schema(
        responses={
            200: OpenApiResponse(response=OpenApiTypes.OBJECT, description=EXPORT_DESCRIPTION)
        }
    )
    def get(self, request):
        export = export_personal_data(user=request.user, address=client_address(request))
        return Response(json.loads(export.as_json()))

    @extend_schema(request=PersonalDataCorrectionInputSerializer, responses=UserOutputSerializer)
    def patch(self, request):
        params = PersonalDataCorrectionInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        user = correct_personal_data(
            user=request.user, changes=params.validated_data, address=client_address(request)
        )
        return Response(UserOutputSerializer(user).data)


class MyDataPdfApi(APIView):
    """Your personal data as a PDF to read and keep (the same content as the JSON)."""

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                response=OpenApiTypes.BINARY, description=_("The PDF document.")
            )
        }
    )
    def get(self, request):
        export = export_personal_data(user=request.user, address=client_address(request))
        response = HttpResponse(personal_data_pdf(export), content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="freshchain-my-data.pdf"'
        return response


class DeleteMyAccountApi(APIView):
    """Delete your account (PIPL art. 47). Refused (409, on `password`) while your wallet
    holds money or an order is on its way, with the balance or the order named; 400 on a wrong
    password. On success your tokens and sessions end: 204."""

    @extend_schema(request=DeleteAccountInputSerializer, responses={204: None})
    def post(self, request):
        params = DeleteAccountInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        delete_account(
            user=request.user,
            password=params.validated_data["password"],
            address=client_address(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
