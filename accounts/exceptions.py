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


class InvalidPhone(AccountsError):
    default_message = _(
        "Enter a mainland China mobile number: 11 digits starting with 1, e.g. 138 0013 8000."
    )
    field = "phone"


class CodeSendTooSoon(AccountsError):
    """One code per number per SMS_CODE_RESEND_SECONDS; the message says how long to wait."""

    kind = RefusalKind.TOO_MANY
    field = "phone"


class TooManyCodes(AccountsError):
    """The day's codes for this number, or the hour's from this address, are used up."""

    kind = RefusalKind.TOO_MANY
    field = "phone"


class CodeNotSent(AccountsError):
    default_message = _("The text message could not be sent just now; try again in a minute.")
    kind = RefusalKind.CONFLICT
    field = "phone"


class CodeRefused(AccountsError):
    """A one-time code that does not open anything: wrong, expired, used, or tried too often."""

    field = "code"


class WrongCode(CodeRefused):
    default_message = _("This code is not right. Check the text message and try again.")


class CodeExpired(CodeRefused):
    default_message = _("This code has expired; ask for a new one.")


class CodeUsed(CodeRefused):
    default_message = _("This code was used already; ask for a new one.")


class CodeTriedTooOften(CodeRefused):
    default_message = _("Too many tries with this code; ask for a new one.")


class PhoneNumberTaken(AccountsError):
    """Said only to someone who proved she holds the number (with a code sent to it)."""

    default_message = _("This number belongs to another account.")
    kind = RefusalKind.CONFLICT
    field = "phone"


class ConsentRequired(AccountsError):
    default_message = _("Agree to the privacy policy to create an account.")
    field = "agree"


class SignUpRoleRefused(AccountsError):
    default_message = _("Choose a consumer or a buyer account.")
    field = "account_type"


class SamePhone(AccountsError):
    default_message = _("This is your number already.")
    field = "phone"


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
