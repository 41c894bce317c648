"""Permission helpers every app uses.

Coarse checks (is this a farmer?) stay in the door: `role_required` for pages, `HasRole`
for the API. Object checks are visibility: each app's selectors return the queryset a
user may see (`farms_visible_to(user)`), and `get_visible_or_404` fetches one object from
it, so an object outside the user's reach is simply not found (404, never 403, so ids of
other people's objects are not confirmed to exist).
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404
from rest_framework.permissions import BasePermission

from .choices import Role


def is_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_platform_admin)


def user_has_role(user, *roles: str) -> bool:
    """True for an active user holding one of the roles; platform admins hold them all."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return is_admin(user) or user.role in roles


def role_required(*roles: str) -> Callable:
    """Page decorator: sign in first, then 403 for a role that has no business here."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not user_has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class HasRole(BasePermission):
    """DRF permission: `permission_classes = [HasRole.of(Role.FARMER, …)]`."""

    roles: tuple[str, ...] = ()

    @classmethod
    def of(cls, *roles: str) -> type["HasRole"]:
        return type(f"HasRole_{'_'.join(roles)}", (cls,), {"roles": roles})

    def has_permission(self, request, view) -> bool:
        return user_has_role(request.user, *self.roles)


def get_visible_or_404(visible: QuerySet, **lookup) -> Model:
    """One object from a visibility queryset; 404 when it does not exist *or* is not yours."""
    try:
        return visible.get(**lookup)
    except visible.model.DoesNotExist as exc:
        raise Http404 from exc


ALL_ROLES = tuple(Role.values)
