"""Serializer fields shared by the apps' API input serializers."""

from rest_framework import serializers
from rest_framework.fields import empty


class RequiredBooleanField(serializers.BooleanField):
    """A boolean the client must send, whatever the body's format.

    DRF reads a boolean missing from a form or multipart body as false (an unticked HTML
    checkbox), so leaving out `on_shift` would sign a courier off; here it is 400 "required",
    as the schema says and as it is in JSON.
    """

    default_empty_html = empty
