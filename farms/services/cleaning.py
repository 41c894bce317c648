"""Small input checks the farms services share."""

from django.db import IntegrityError
from django.utils.translation import gettext as _

from ..exceptions import FarmsError


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint PostgreSQL reports as violated, if it says."""
    diagnostics = getattr(error.__cause__, "diag", None)
    return getattr(diagnostics, "constraint_name", None)


def clean_name(value: str, *, field: str, max_length: int) -> str:
    """A name without surrounding spaces, refused on `field` when empty or too long."""
    name = (value or "").strip()
    if not name:
        raise FarmsError(_("Enter a name."), field=field)
    if len(name) > max_length:
        raise FarmsError(
            _("Use at most %(count)s characters.") % {"count": max_length}, field=field
        )
    return name
