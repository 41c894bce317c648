from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from common.units import WeightUnit

from ..choices import Role
from ..phone import mask_phone, normalize_phone, validate_china_mobile


def username_matches(username: str | None) -> Exact:
    """The filter for a username typed in any case; it uses the index on lower(username)."""
    return Exact(Lower("username"), Lower(models.Value(username)))


class CaseInsensitiveUserManager(UserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(username_matches(username))


class User(AbstractUser):
    """A person who signs in. One role decides the workspace and what they may see.

    Phone numbers are stored normalised (+86…) so sign-in matches however it is typed.
    """

    phone = models.CharField(
        _("mobile phone"),
        max_length=14,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_china_mobile],
        help_text=_("Mainland China mobile number; you can sign in with it."),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role, default=Role.BUYER)
    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    weight_unit = models.CharField(
        _("weight unit"),
        max_length=3,
        choices=WeightUnit,
        default=WeightUnit.KG,
        help_text=_("How weights and prices per weight are shown to you."),
    )
    # 适老化: larger text and touch targets on every page (a class on <html>).
    large_text = models.BooleanField(
        _("large text"),
        default=False,
        help_text=_("Larger text and buttons on every page."),
    )
    must_change_password = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_(
            "Set when someone else chose the password; the user replaces it before anything else."
        ),
    )

    objects: ClassVar[CaseInsensitiveUserManager] = CaseInsensitiveUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="user_role_valid"
            ),
            # "Zhang" and "zhang" would both match a sign-in, so they cannot both exist.
            models.UniqueConstraint(
                Lower("username"),
                name="user_username_case_insensitive_unique",
                violation_error_message=_("A user with that username already exists."),
            ),
        ]

    def __str__(self) -> str:
        # A username that is a mobile number names her only masked: str(user) is what
        # sellers, couriers and notifications about her show.
        return (
            self.display_name or self.get_full_name() or mask_phone(self.username) or self.username
        )

    def clean(self):
        super().clean()
        # A field error where the form shows the username, not only the constraint's
        # form-wide message.
        if (
            self.username
            and User._default_manager.filter(username_matches(self.username))
            .exclude(pk=self.pk)
            .exists()
        ):
            raise ValidationError(
                {"username": _("A user with that username already exists.")}, code="unique"
            )

    def clean_fields(self, exclude=None):
        # Normalise before the field checks run, so "+86 138 0013 8000" fits in 14
        # characters and the unique check compares like with like.
        self._normalize_phone()
        super().clean_fields(exclude=exclude)

    def save(self, *args, **kwargs):
        self._normalize_phone()
        if self.is_superuser:
            self.role = Role.ADMIN
        super().save(*args, **kwargs)

    def _normalize_phone(self) -> None:
        if self.phone:
            self.phone = normalize_phone(self.phone) or self.phone
        else:
            self.phone = None  # unique allows many NULLs, not many empty strings

    def has_role(self, *roles: str) -> bool:
        return self.is_active and self.role in roles

    @property
    def is_platform_admin(self) -> bool:
        return self.is_active and (self.is_superuser or self.role == Role.ADMIN)
