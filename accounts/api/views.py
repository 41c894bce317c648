from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .serializers import TokenInputSerializer, UserOutputSerializer


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
