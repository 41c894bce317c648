"""Refusals of the accounts app. Each names the input at fault in `field` where one is."""

from django.utils.translation import gettext_lazy as _

from common.exceptions import DomainError


class AccountsError(DomainError):
    default_message = _("The account request was refused.")


class WrongCurrentPassword(AccountsError):
    default_message = _("Your current password is not correct.")
    field = "old_password"


class PasswordNotAccepted(AccountsError):
    """The new password fails a password rule; the message lists which."""

    field = "new_password"


class PasswordUnchanged(AccountsError):
    default_message = _("Choose a password different from the one you have now.")
    field = "new_password"
