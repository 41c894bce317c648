"""Serializer fields shared by the apps' API input serializers."""

from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.utils import html


class RequiredBooleanField(serializers.BooleanField):
    """A boolean the client must send, whatever the body's format.

    DRF reads a boolean missing from a form or multipart body as false (an unticked HTML
    checkbox), so leaving out `on_shift` would sign a courier off; here it is 400 "required",
    as the schema says and as it is in JSON. And DRF takes 0, "no" or "off" for false, which the
    schema (a boolean) does not.
    """

    default_empty_html = empty
    # true or false as JSON has them (or their text in a form), not 1, "yes" or "on".
    TRUE_VALUES = {True, "true", "True"}
    FALSE_VALUES = {False, "false", "False"}

    def to_internal_value(self, data):
        if not isinstance(data, bool | str):  # 0 == False in a set lookup
            self.fail("invalid", input=data)
        return super().to_internal_value(data)


class OptionalDateField(serializers.DateField):
    """A date the client may leave out; sent empty in a form body it is refused like any
    other non-date (DRF would read it as left out, so `for_date=` would mean tomorrow)."""

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)
