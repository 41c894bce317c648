"""Serializer fields for ids taken from a request's body."""

from collections.abc import Callable

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from common.exceptions import NotFoundOrNotYours


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
        super().__init__(queryset=model.objects.none(), **kwargs)

    def get_queryset(self) -> QuerySet:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None:
            return self.queryset
        return self.scope(user)
