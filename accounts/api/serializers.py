from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import User


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("Mobile number or username"))
    password = serializers.CharField(label=_("Password"), style={"input_type": "password"})

    def validate(self, attrs):
        user = authenticate(
            request=self.context.get("request"),
            username=attrs["username"],
            password=attrs["password"],
        )
        if user is None:
            raise serializers.ValidationError(
                {"password": [_("The mobile number or username and password do not match.")]}
            )
        attrs["user"] = user
        return attrs


class UserOutputSerializer(serializers.ModelSerializer):
    role_label = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "phone", "role", "role_label", "weight_unit"]
        read_only_fields = fields
