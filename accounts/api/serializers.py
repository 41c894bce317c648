from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status

from accounts.lockout import cool_off_minutes, is_locked_out, lockout_message
from accounts.models import User


class SignInLockedOut(exceptions.APIException):
    """429 with the lock-out message; Retry-After says when to try again."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self):
        super().__init__(lockout_message())
        self.wait = cool_off_minutes() * 60


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("Mobile number or username"))
    password = serializers.CharField(label=_("Password"), style={"input_type": "password"})

    def validate(self, attrs):
        request = self.context["request"]
        user = authenticate(request=request, username=attrs["username"], password=attrs["password"])
        if user is None:
            if is_locked_out(request):
                raise SignInLockedOut
            raise serializers.ValidationError(
                {"password": [_("The mobile number or username and password do not match.")]}
            )
        attrs["user"] = user
        return attrs


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_("Send it as `Authorization: Token <token>`."))
    expiry = serializers.DateTimeField(help_text=_("After this the token is refused."))


class PasswordChangeInputSerializer(serializers.Serializer):
    old_password = serializers.CharField(style={"input_type": "password"})
    new_password = serializers.CharField(style={"input_type": "password"})


class UserOutputSerializer(serializers.ModelSerializer):
    role_label = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "phone", "role", "role_label", "weight_unit"]
        read_only_fields = fields


class NotificationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True)
    payload = serializers.JSONField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    read_at = serializers.DateTimeField(read_only=True, allow_null=True)  # unread: null


class NotificationReadInputSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=500,
        help_text=_("The notifications to mark read; leave out and send all=true for all."),
    )
    all = serializers.BooleanField(default=False)

    def validate(self, attrs):
        if not attrs.get("ids") and not attrs["all"]:
            raise serializers.ValidationError(
                {"ids": [_("Name the notifications to mark read, or send all=true.")]}
            )
        return attrs
