"""Filters shared by the apps' FilterSets."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from common import geometry
from common.exceptions import InvalidLocation


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A database id: a whole number, refused with 400 otherwise (NumberFilter takes 1.5)."""

    field_class = forms.IntegerField


class StrictNullBooleanField(forms.NullBooleanField):
    """true/false (or 1/0); Django's own field (and its select widget) reads anything else
    as "not given"."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in (True, "true", "True", "1"):
            return True
        if value in (False, "false", "False", "0"):
            return False
        raise forms.ValidationError(_("Must be a valid boolean."), code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    """A yes/no filter that refuses `?chilling_sensitive=maybe` with 400."""

    field_class = StrictNullBooleanField


class LongitudeLatitudeField(forms.CharField):
    """ "longitude,latitude" (WGS 84, in China) → a Point."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return geometry.parse_location(value)
        except InvalidLocation as exc:
            raise forms.ValidationError(str(exc.message)) from exc


@extend_schema_field(OpenApiTypes.STR)
class LongitudeLatitudeFilter(django_filters.Filter):
    field_class = LongitudeLatitudeField
