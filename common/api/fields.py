"""Serializer fields shared by the apps' API input serializers."""

from collections.abc import Callable
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.utils import html
from rest_framework_gis.fields import GeometryField

from common import geometry
from common.api.schema import DECIMAL_STRING
from common.exceptions import InvalidBoundary, InvalidLocation, NotFoundOrNotYours


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An id looked up only among what the requesting user may use: `scope(user)` is the
    visibility queryset (a selector). A missing id and someone else's give the same field
    error, "Not found, or not yours." The serializer needs the request in its context.

    `queryset` is only the model's empty queryset, for the schema; lookups use the scope."""

    default_error_messages = {
        "does_not_exist": NotFoundOrNotYours.default_message,
        "incorrect_type": _("Give the id as a whole number."),
    }

    def __init__(self, *, scope: Callable[..., QuerySet], model, **kwargs):
        self.scope = scope
        self.no_choices: QuerySet = model.objects.none()
        super().__init__(queryset=self.no_choices, **kwargs)

    def get_queryset(self) -> QuerySet:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None:
            return self.no_choices
        return self.scope(user)


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


@extend_schema_field(DECIMAL_STRING)
class DecimalStringField(serializers.Field):
    """A stored Decimal as the string the database holds ("2.50"), as DRF sends decimals.

    Output only. Cheaper than DecimalField's re-quantizing, which matters on list pages
    of the catalogue (eight decimals a product, fifty products a page).
    """

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: Decimal) -> str:
        return str(value)


@extend_schema_field(OpenApiTypes.INT)
class ChoicesFromContext(serializers.PrimaryKeyRelatedField):
    """A related object chosen among those the requester may use (context[key])."""

    def __init__(self, *, context_key: str, **kwargs):
        self.context_key = context_key
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.context[self.context_key]


GEOJSON_POLYGON_SCHEMA = {
    "type": "object",
    "description": "GeoJSON Polygon (WGS 84, longitude first); a Feature or a "
    'FeatureCollection of one is accepted. A "crs" member is refused.',
    "properties": {
        "type": {"type": "string", "enum": ["Polygon"]},
        "coordinates": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
        },
    },
}
GEOJSON_POINT_SCHEMA = {
    "type": "object",
    "description": 'GeoJSON Point (WGS 84), or the text "longitude,latitude".',
    "properties": {
        "type": {"type": "string", "enum": ["Point"]},
        "coordinates": {"type": "array", "items": {"type": "number"}},
    },
}


@extend_schema_field(GEOJSON_POLYGON_SCHEMA)
class BoundaryField(GeometryField):
    """A GeoJSON Polygon (or a Feature / FeatureCollection of one) in; GeoJSON out.

    Input is read by common.geometry, never by GDAL, so a "crs" member is refused.
    """

    def to_internal_value(self, value):
        try:
            return geometry.parse_boundary(value)
        except InvalidBoundary as exc:
            raise serializers.ValidationError(str(exc.message)) from exc


@extend_schema_field(GEOJSON_POINT_SCHEMA)
class LocationField(GeometryField):
    """A GeoJSON Point or "longitude,latitude" text in (WGS 84); GeoJSON out."""

    def to_internal_value(self, value):
        try:
            return geometry.parse_location(value)
        except InvalidLocation as exc:
            raise serializers.ValidationError(str(exc.message)) from exc
