from django.contrib.auth import update_session_auth_hash, user_logged_in
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.addresses import client_address
from accounts.choices import Role
from accounts.notifications import mark_notifications_read, notifications_of, unread_count
from accounts.permissions import HasRole
from accounts.selectors import audit_entries
from accounts.services import (
    change_own_password,
    issue_api_token,
    revoke_api_token,
    revoke_api_tokens,
)
from common.api.schema import OneObjectListSchema

from .authentication import TokenAuthentication
from .serializers import (
    AuditEntryOutputSerializer,
    AuditQueryInputSerializer,
    NotificationOutputSerializer,
    NotificationReadInputSerializer,
    PasswordChangeInputSerializer,
    TokenInputSerializer,
    TokenOutputSerializer,
    UserOutputSerializer,
)
from .throttles import SignInRateThrottle


def _token_answer(user) -> dict:
    token, key = issue_api_token(user=user)
    return TokenOutputSerializer({"token": key, "expiry": token.expiry}).data


class TokenObtainApi(APIView):
    """Exchange a mobile number (or username) and password for an API token.

    Each call issues a new token, valid until `expiry`. Repeated wrong passwords for one
    account from one address lock that pair out for a while (429).
    """

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [SignInRateThrottle]

    @extend_schema(
        request=TokenInputSerializer,
        responses={
            200: TokenOutputSerializer,
            400: OpenApiResponse(description="Wrong mobile number, username or password."),
            429: OpenApiResponse(description="Too many attempts; try again later."),
        },
    )
    def post(self, request):
        params = TokenInputSerializer(data=request.data, context={"request": request})
        params.is_valid(raise_exception=True)
        user = params.validated_data["user"]
        # Records the sign-in (last_login) and clears the address's failed attempts.
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response(_token_answer(user))


class SignOutApi(APIView):
    """Revoke the token this request is made with."""

    authentication_classes = [TokenAuthentication]
    open_before_password_change = True

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        revoke_api_token(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignOutEverywhereApi(APIView):
    """Revoke every API token of the signed-in user (every phone and script)."""

    open_before_password_change = True

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        revoke_api_tokens(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeApi(APIView):
    """Replace one's own password. Every API token is revoked; the answer carries a new
    one for this client. Required first for a password someone else set."""

    open_before_password_change = True
    throttle_classes = [SignInRateThrottle]

    @extend_schema(request=PasswordChangeInputSerializer, responses=TokenOutputSerializer)
    def post(self, request):
        params = PasswordChangeInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        change_own_password(
            user=request.user, address=client_address(request), **params.validated_data
        )
        if not isinstance(request.auth, AuthToken):
            update_session_auth_hash(request, request.user)  # keep this browser signed in
        return Response(_token_answer(request.user))


class MeApi(APIView):
    """The signed-in user, with the role that decides what they may see."""

    @extend_schema(responses=UserOutputSerializer)
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)


class NotificationQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False)


# The list answers one page object itself (with the unread count): drf-spectacular must not
# wrap it in its own pagination again (results would be typed as pages).
NOTIFICATION_PAGE = extend_schema_serializer(many=False)(
    inline_serializer(
        "NotificationPage",
        {
            "count": serializers.IntegerField(),
            "unread_count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": NotificationOutputSerializer(many=True),
        },
    ).__class__
)


class NotificationListApi(ListAPIView):
    """The signed-in user's own notifications, newest first, with the unread count.

    `unread=true` lists only the unread ones. A screen that was offline catches up here.
    """

    serializer_class = NotificationOutputSerializer
    filter_backends = []
    # The page below is documented whole (with unread_count), not wrapped as a page of pages.
    schema = OneObjectListSchema()

    def get_queryset(self):
        query = NotificationQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)  # unread=maybe is a 400, not "all of them"
        notifications = notifications_of(self.request.user)
        if query.validated_data.get("unread"):
            notifications = notifications.filter(read_at__isnull=True)
        return notifications

    @extend_schema(
        parameters=[NotificationQuerySerializer],
        responses=NOTIFICATION_PAGE,
    )
    def get(self, request, *args, **kwargs):
        response = self.list(request, *args, **kwargs)
        response.data["unread_count"] = unread_count(request.user)
        return response


class NotificationReadApi(APIView):
    """Mark some (`ids`) or all (`all: true`) of one's own notifications read."""

    @extend_schema(
        request=NotificationReadInputSerializer,
        responses=inline_serializer(
            "NotificationReadOutput",
            {"marked": serializers.IntegerField(), "unread_count": serializers.IntegerField()},
        ),
    )
    def post(self, request):
        params = NotificationReadInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        ids = None if params.validated_data["all"] else params.validated_data["ids"]
        marked = mark_notifications_read(user=request.user, ids=ids)
        return Response({"marked": marked, "unread_count": unread_count(request.user)})


class AuditLogApi(ListAPIView):
    """The audit log, newest first, for the platform admin (403 for every other role):
    sign-ins, password and phone changes, role changes, approvals, cards, payouts and
    reversals, data exports and deletions; who, when, from which address, what changed.

    Filters: `action`, `actor` and `subject` (user id, username or mobile number), `since`
    and `until` (Asia/Shanghai dates, both included), `address`.
    """

    permission_classes = [IsAuthenticated, HasRole.of(Role.ADMIN)]
    serializer_class = AuditEntryOutputSerializer
    filter_backends = []

    def get_queryset(self):
        query = AuditQueryInputSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return audit_entries(query.audit_query())

    @extend_schema(parameters=[AuditQueryInputSerializer])
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)
