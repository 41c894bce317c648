"""Filters shared by the apps' FilterSets."""

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A database id: a whole number, refused with 400 otherwise (NumberFilter takes 1.5)."""

    field_class = forms.IntegerField
