from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    FARMER = "farmer", _("Farmer")
    COOPERATIVE_MANAGER = "cooperative_manager", _("Co-operative manager")
    MARKET_OPERATOR = "market_operator", _("Market operator")
    BUYER = "buyer", _("Buyer")
    WAREHOUSE_MANAGER = "warehouse_manager", _("Warehouse manager")
    COURIER = "courier", _("Courier")
    COLDCHAIN_CONTROLLER = "coldchain_controller", _("Cold-chain controller")
    CONSUMER = "consumer", _("Consumer")
    # Read-only: a market-supervision bureau or the platform's operations staff watching the
    # whole chain (the control tower); not a market's own supervisor (a MarketStaff flag).
    REGULATOR = "regulator", _("Regulator")
    ADMIN = "admin", _("Platform admin")


class CodePurpose(models.TextChoices):
    """What a one-time SMS code proves; a code sent for one purpose opens nothing else."""

    SIGN_UP = "sign_up", _("Sign-up")
    SIGN_IN = "sign_in", _("Sign-in")
    PASSWORD_RESET = "password_reset", _("Password reset")
    PHONE_CHANGE = "phone_change", _("Phone number change")


class AuditAction(models.TextChoices):
    """The sensitive actions the audit log keeps. Add a member where a new action needs one;
    the column has no database check, so the log never refuses a row for its action."""

    SIGN_IN = "sign_in", _("Signed in")
    SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
    SIGNED_UP = "signed_up", _("Signed up")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    PASSWORD_RESET = "password_reset", _("Password reset with a code")
    PASSWORD_SET_BY_OTHER = "password_set_by_other", _("Password set by someone else")
    PHONE_CHANGED = "phone_changed", _("Phone number changed")
    ROLE_CHANGED = "role_changed", _("Role changed")
    CONSENT_GIVEN = "consent_given", _("Privacy policy agreed")
    COOPERATIVE_APPLICATION_APPROVED = (
        "coop_application_approved",
        _("Co-operative application approved"),
    )
    COOPERATIVE_APPLICATION_RETURNED = (
        "coop_application_returned",
        _("Co-operative application returned for changes"),
    )
    COOPERATIVE_APPLICATION_DECLINED = (
        "coop_application_declined",
        _("Co-operative application declined"),
    )
    TRADER_CARD_ISSUED = "trader_card_issued", _("Trader card issued")
    COURIER_ACTIVATED = "courier_activated", _("Courier activated")
    COURIER_DEACTIVATED = "courier_deactivated", _("Courier deactivated")
    PAYOUT = "payout", _("Payout")
    REVERSAL = "reversal", _("Reversal")
    DATA_EXPORTED = "data_exported", _("Personal data exported")
    PERSONAL_DATA_CORRECTED = "personal_data_corrected", _("Personal data corrected")
    ACCOUNT_DELETED = "account_deleted", _("Account deleted")
    TRADER_CARD_DECLINED = "trader_card_declined", _("Trader card application declined")
    ACCOUNT_CREATED = "account_created", _("Account created by an administrator")
    ACCOUNT_DEACTIVATED = "account_deactivated", _("Account deactivated")
    ACCOUNT_REACTIVATED = "account_reactivated", _("Account reactivated")
    ADMIN_RIGHTS_CHANGED = "admin_rights_changed", _("Administrator rights changed")
    WITHDRAWAL = "withdrawal", _("Balance withdrawn")
    REFUND = "refund", _("Refund")
    MARKET_STAFF_CHANGED = "market_staff_changed", _("Market staff changed")
    TRADER_CARD_SUSPENDED = "trader_card_suspended", _("Trader card suspended")
    TRADER_CARD_REINSTATED = "trader_card_reinstated", _("Trader card reinstated")
