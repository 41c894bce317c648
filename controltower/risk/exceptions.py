"""Refusals of the control tower's risk warnings and rules."""

from django.utils.translation import gettext_lazy as _

from common.exceptions import ConflictError, DomainError, ForbiddenError, NotFoundError


class RiskError(DomainError):
    default_message = _("The request was refused.")


class RuleRejected(RiskError):
    """A rule with impossible thresholds (or a scope its kind cannot have): `errors` lists
    every problem by field, thresholds by their name; nothing is saved."""

    default_message = _("The rule was not saved: correct the thresholds.")

    def __init__(self, *, errors: dict):
        self.errors = errors
        super().__init__(field=next(iter(errors), None))

    def as_dict(self) -> dict:
        return self.errors


class WarningAlreadyAcknowledged(ConflictError, RiskError):
    default_message = _("Someone has already acknowledged this warning.")


class NotTowerWatcher(ForbiddenError, RiskError):
    default_message = _("Only a platform admin or a regulator handles risk warnings.")


class WarningNotFound(NotFoundError, RiskError):
    default_message = _("No such warning, or it lies outside your area.")
