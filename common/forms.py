"""Form widgets, fields and helpers shared by the apps' pages."""

from collections.abc import Mapping

from django import forms

from common.exceptions import DomainError


class DateInput(forms.DateInput):
    """A native date picker; it takes ISO dates whatever the page language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class BilingualChoiceField(forms.ModelChoiceField):
    """A choice among rows named in both languages: "白菜 · Chinese cabbage"."""

    def label_from_instance(self, obj) -> str:
        return f"{obj.name_zh} · {obj.name_en}"


def add_service_error(
    form: forms.Form, error: DomainError, field_map: Mapping[str, str | None] | None = None
) -> None:
    """Show a DomainError on its form field, or above the form when no field matches."""
    field = (field_map or {}).get(error.field or "", error.field)
    form.add_error(field if field in form.fields else None, str(error.message))
