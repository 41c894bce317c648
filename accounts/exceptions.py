"""Refusals of the accounts app. Each names the input at fault in `field` where one is."""

from django.utils.translation import gettext_lazy as _

from common.exceptions import DomainError, RefusalKind


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


class CallbackAskedRecently(AccountsError):
    """One call-back request per order per CALLBACK_REQUEST_INTERVAL_MINUTES: she is not
    to be rung by the app every time a button is tapped."""

    kind = RefusalKind.CONFLICT
    field = "callback"


class AccountDeletionBlocked(AccountsError):
    """A section says the account cannot go now (money in the wallet, an order on its way);
    the message says what to do first."""

    kind = RefusalKind.CONFLICT
    field = "password"


class WrongPasswordForDeletion(AccountsError):
    default_message = _("That is not your password.")
    field = "password"


class PersonalDataNotAccepted(AccountsError):
    """A correction that fails a field's rule; `field` names it."""


class CallbackNeedsYourNumber(AccountsError):
    default_message = _("Your account has no mobile number to call you back on: add one first.")
    kind = RefusalKind.CONFLICT
    field = "callback"
