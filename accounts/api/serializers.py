from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status

from accounts.choices import AuditAction
from accounts.lockout import cool_off_minutes, is_locked_out, lockout_message
from accounts.models import User
from accounts.selectors import AuditQuery, person_named


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
    read_at = serializers.DateTimeField(read_only=True, allow_null=True)  # null: unread


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


class AuditQueryInputSerializer(serializers.Serializer):
    """The audit log's filters, as on the page; dates are Asia/Shanghai dates, both included."""

    action = serializers.ChoiceField(choices=AuditAction.choices, required=False)
    actor = serializers.CharField(
        required=False, max_length=150, help_text=_("User id, username or mobile number.")
    )
    subject = serializers.CharField(
        required=False, max_length=150, help_text=_("User id, username or mobile number.")
    )
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)
    address = serializers.IPAddressField(required=False)

    def _person(self, typed: str):
        person = person_named(typed)
        if person is None:
            raise serializers.ValidationError(_("No user has this id, username or mobile number."))
        return person

    def validate_actor(self, value):
        return self._person(value)

    def validate_subject(self, value):
        return self._person(value)

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and until < since:
            raise serializers.ValidationError(
                {"until": [_("The end date is before the start date.")]}
            )
        return attrs

    def audit_query(self) -> AuditQuery:
        return AuditQuery(
            action=self.validated_data.get("action", ""),
            actor=self.validated_data.get("actor"),
            subject=self.validated_data.get("subject"),
            since=self.validated_data.get("since"),
            until=self.validated_data.get("until"),
            address=self.validated_data.get("address", ""),
        )


class AuditEntryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    at = serializers.DateTimeField(read_only=True)
    action = serializers.ChoiceField(choices=AuditAction.choices, read_only=True)
    action_label = serializers.CharField(source="get_action_display", read_only=True)
    actor = serializers.IntegerField(
        source="actor_id", read_only=True, allow_null=True, help_text=_("Null: nobody signed in.")
    )
    subject = serializers.IntegerField(source="subject_id", read_only=True, allow_null=True)
    object_type = serializers.CharField(read_only=True)
    object_id = serializers.CharField(read_only=True)
    object_label = serializers.CharField(read_only=True)
    changes = serializers.DictField(
        child=serializers.JSONField(),
        read_only=True,
        help_text=_("field: [before, after]"),
    )
    client_address = serializers.IPAddressField(read_only=True, allow_null=True)
