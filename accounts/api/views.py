from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.notifications import mark_notifications_read, notifications_of, unread_count

from .serializers import (
    NotificationOutputSerializer,
    NotificationReadInputSerializer,
    TokenInputSerializer,
    UserOutputSerializer,
)


class TokenObtainApi(APIView):
    """Exchange a mobile number (or username) and password for an API token."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        request=TokenInputSerializer,
        responses=inline_serializer("TokenOutput", {"token": serializers.CharField()}),
    )
    def post(self, request):
        params = TokenInputSerializer(data=request.data, context={"request": request})
        params.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=params.validated_data["user"])
        return Response({"token": token.key})


class MeApi(APIView):
    """The signed-in user, with the role that decides what they may see."""

    @extend_schema(responses=UserOutputSerializer)
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)


class NotificationQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False)


class NotificationListApi(ListAPIView):
    """The signed-in user's own notifications, newest first, with the unread count.

    `unread=true` lists only the unread ones. A screen that was offline catches up here.
    """

    serializer_class = NotificationOutputSerializer
    filter_backends = []

    def get_queryset(self):
        query = NotificationQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)  # unread=maybe is a 400, not "all of them"
        notifications = notifications_of(self.request.user)
        if query.validated_data.get("unread"):
            notifications = notifications.filter(read_at__isnull=True)
        return notifications

    @extend_schema(
        parameters=[NotificationQuerySerializer],
        responses=inline_serializer(
            "NotificationPage",
            {
                "count": serializers.IntegerField(),
                "unread_count": serializers.IntegerField(),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": NotificationOutputSerializer(many=True),
            },
        ),
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
