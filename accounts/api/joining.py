"""API doors for joining and proving a number: codes, sign-up, sign-in with a code, password
reset, and a signed-in person's new phone number. The rules are in accounts.services.codes and
accounts.services.signup; a refusal comes back as field errors (400), a conflict (409) or a
rate limit (429 with Retry-After)."""

from django.contrib.auth import user_logged_in
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.addresses import client_address
from accounts.choices import CodePurpose, Role
from accounts.exceptions import InvalidPhone
from accounts.phone import mask_phone, normalize_phone
from accounts.services import signup as signup_services
from accounts.services.codes import send_code
from accounts.services.passwords import issue_api_token
from common.api.throttles import UserRateThrottle

from .serializers import TokenOutputSerializer, UserOutputSerializer


class SignUpRateThrottle(UserRateThrottle):
    """Requests per address to the sign-up, code and reset endpoints (API_THROTTLE_SIGN_UP),
    on top of the codes' own limits per number and per address."""

    scope = "sign_up"


class PhoneNumberField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 24)
        kwargs.setdefault("help_text", _("Mainland China mobile number, e.g. 13800138000."))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        phone = normalize_phone(super().to_internal_value(data))
        if phone is None:
            raise serializers.ValidationError(InvalidPhone.default_message)
        return phone


def code_field():
    return serializers.RegexField(
        r"^\d{6}$",
        help_text=_("The 6-digit code from the text message."),
        error_messages={"invalid": _("The code has 6 digits.")},
    )


class CodeRequestInputSerializer(serializers.Serializer):
    phone = PhoneNumberField()
    purpose = serializers.ChoiceField(
        choices=[
            (CodePurpose.SIGN_UP.value, CodePurpose.SIGN_UP.label),
            (CodePurpose.SIGN_IN.value, CodePurpose.SIGN_IN.label),
            (CodePurpose.PASSWORD_RESET.value, CodePurpose.PASSWORD_RESET.label),
        ]
    )


class PhoneCodeInputSerializer(serializers.Serializer):
    phone = PhoneNumberField(help_text=_("The new mobile number; the code goes to it."))


class CodeSentOutputSerializer(serializers.Serializer):
    sent_to = serializers.CharField(help_text=_("The number, masked: 138****0001."))
    expires_at = serializers.DateTimeField(help_text=_("After this the code is refused."))
    resend_after_seconds = serializers.IntegerField(
        help_text=_("Seconds before another code may be asked for this number.")
    )


class SignUpInputSerializer(serializers.Serializer):
    phone = PhoneNumberField()
    code = code_field()
    display_name = serializers.CharField(max_length=80)
    password = serializers.CharField(style={"input_type": "password"}, max_length=128)
    account_type = serializers.ChoiceField(
        choices=[(Role.CONSUMER.value, Role.CONSUMER.label), (Role.BUYER.value, Role.BUYER.label)],
        default=Role.CONSUMER.value,
        help_text=_("consumer: a household; buyer: a restaurant or a shop."),
    )
    agree = serializers.BooleanField(
        help_text=_("She read and agrees to the privacy policy in force (/privacy/).")
    )


class CodeSignInInputSerializer(serializers.Serializer):
    phone = PhoneNumberField()
    code = code_field()


class PasswordResetInputSerializer(serializers.Serializer):
    phone = PhoneNumberField()
    code = code_field()
    new_password = serializers.CharField(style={"input_type": "password"}, max_length=128)


class PhoneChangeInputSerializer(serializers.Serializer):
    phone = PhoneNumberField(help_text=_("The new mobile number."))
    code = code_field()


def _code_sent_answer(sent) -> dict:
    return CodeSentOutputSerializer(
        {
            "sent_to": mask_phone(sent.phone),
            "expires_at": sent.expires_at,
            "resend_after_seconds": sent.resend_after_seconds,
        }
    ).data


def _token_answer(user) -> dict:
    token, key = issue_api_token(user=user)
    return TokenOutputSerializer({"token": key, "expiry": token.expiry}).data


class AnonymousJoiningApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [SignUpRateThrottle]


class CodeRequestApi(AnonymousJoiningApi):
    """Send a one-time code by SMS for signing up, signing in or resetting a password.

    The answer is the same whether or not the number has an account (a registered number
    asked for a sign-up code gets a text saying so instead). One code per number per minute,
    10 a day, and a limit per address: 429 with Retry-After.
    """

    @extend_schema(
        request=CodeRequestInputSerializer,
        responses={
            200: CodeSentOutputSerializer,
            429: OpenApiResponse(description="Too many codes; Retry-After says when to ask."),
        },
    )
    def post(self, request):
        params = CodeRequestInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        sent = send_code(**params.validated_data, address=client_address(request))
        return Response(_code_sent_answer(sent))


class SignUpApi(AnonymousJoiningApi):
    """Open a consumer or buyer account with a sign-up code; answers an API token.

    Her agreement to the privacy policy in force is recorded.
    """

    @extend_schema(request=SignUpInputSerializer, responses={201: TokenOutputSerializer})
    def post(self, request):
        params = SignUpInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        user = signup_services.sign_up(
            phone=data["phone"],
            code=data["code"],
            display_name=data["display_name"],
            password=data["password"],
            account_type=data["account_type"],
            agreed=data["agree"],
            address=client_address(request),
        )
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response(_token_answer(user), status=status.HTTP_201_CREATED)


class CodeTokenApi(AnonymousJoiningApi):
    """Exchange a mobile number and a sign-in code for an API token."""

    @extend_schema(request=CodeSignInInputSerializer, responses=TokenOutputSerializer)
    def post(self, request):
        params = CodeSignInInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        user = signup_services.sign_in_with_code(**params.validated_data)
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response(_token_answer(user))


class PasswordResetApi(AnonymousJoiningApi):
    """Choose a new password with a reset code. Every API token of the account is revoked."""

    @extend_schema(request=PasswordResetInputSerializer, responses={204: None})
    def post(self, request):
        params = PasswordResetInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        signup_services.reset_password(**params.validated_data, address=client_address(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PhoneCodeApi(APIView):
    """Send a code to the new number the signed-in person wants to move her account to."""

    throttle_classes = [SignUpRateThrottle]

    @extend_schema(request=PhoneCodeInputSerializer, responses=CodeSentOutputSerializer)
    def post(self, request):
        params = PhoneCodeInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        sent = send_code(
            phone=params.validated_data["phone"],
            purpose=CodePurpose.PHONE_CHANGE,
            address=client_address(request),
        )
        return Response(_code_sent_answer(sent))


class PhoneChangeApi(APIView):
    """Move the signed-in person's account to a new number, proven by a code sent to it."""

    throttle_classes = [SignUpRateThrottle]

    @extend_schema(request=PhoneChangeInputSerializer, responses=UserOutputSerializer)
    def post(self, request):
        params = PhoneChangeInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        user = signup_services.change_phone(
            user=request.user,
            new_phone=params.validated_data["phone"],
            code=params.validated_data["code"],
            address=client_address(request),
        )
        return Response(UserOutputSerializer(user).data)
