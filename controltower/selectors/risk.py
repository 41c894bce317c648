"""Reads of risk warnings and rules: who may see them, and the shape screens receive.

The control tower is the platform admin's and the regulator's: the admin and a regulator of
the whole country see every warning, a regulator limited to an area those about what lies in
it (selectors.risk_scope); anyone else sees none. Rules are the admin's alone.
"""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.permissions import is_admin, user_has_role

from ..models import RiskRule, RiskWarning
from ..risk.kinds import RiskKind, RiskSeverity, threshold_rows
from ..risk.rules import rule_kinds
from .risk_scope import warnings_in
from .scope import scope_of as tower_scope_of

TOWER_ROLES = (Role.REGULATOR,)  # and platform admins, who hold every role


def watches_tower(user) -> bool:
    return user_has_role(user, *TOWER_ROLES)


def warnings_visible_to(user) -> QuerySet[RiskWarning]:
    if not watches_tower(user):
        return RiskWarning.objects.none()
    warnings = RiskWarning.objects.select_related("acknowledged_by", "subject_type", "rule")
    return warnings_in(tower_scope_of(user), warnings)


def open_warnings_for(user) -> QuerySet[RiskWarning]:
    """Unresolved warnings, newest first."""
    return warnings_visible_to(user).filter(resolved_at__isnull=True).order_by("-raised_at", "-id")


def rules_visible_to(user) -> QuerySet[RiskRule]:
    if not is_admin(user):
        return RiskRule.objects.none()
    return RiskRule.objects.select_related("market", "warehouse").order_by("kind", "pk")


def warning_message(warning: RiskWarning) -> str:
    """The warning in words, in the active language (the stored message is in the site's)."""
    try:
        return rule_kinds()[warning.kind].describe(warning.figures)
    except (KeyError, TypeError, ValueError):
        return warning.message


def warning_payload(warning: RiskWarning) -> dict:
    """The JSON of a warning: what the API lists and the live panel receives."""
    by = warning.acknowledged_by
    return {
        "id": warning.pk,
        "rule_id": warning.rule_id,
        "kind": warning.kind,
        "kind_label": str(RiskKind(warning.kind).label),
        "severity": warning.severity,
        "severity_label": str(RiskSeverity(warning.severity).label),
        "subject_type": f"{warning.subject_type.app_label}.{warning.subject_type.model}",
        "subject_id": warning.subject_id,
        "key": warning.key,
        "message": warning_message(warning),
        "figures": warning.figures,
        "raised_at": warning.raised_at.isoformat(),
        "acknowledged_at": warning.acknowledged_at.isoformat() if warning.acknowledged_at else None,
        "acknowledged_by": (by.get_full_name() or by.username) if by is not None else None,
        "resolved_at": warning.resolved_at.isoformat() if warning.resolved_at else None,
        "is_open": warning.resolved_at is None,
    }


def scope_of(rule: RiskRule) -> str:
    """What the rule watches, in words: its market or warehouse, or everywhere."""
    if rule.market is not None:
        return rule.market.name
    if rule.warehouse is not None:
        return rule.warehouse.name
    return str(_("Everywhere"))


def rule_payload(rule: RiskRule) -> dict:
    return {
        "id": rule.pk,
        "kind": rule.kind,
        "kind_label": str(RiskKind(rule.kind).label),
        "name": rule.name,
        "severity": rule.severity,
        "is_enabled": rule.is_enabled,
        "market_id": rule.market_id,
        "warehouse_id": rule.warehouse_id,
        "scope": scope_of(rule),
        "thresholds": rule.thresholds,
        "threshold_rows": threshold_rows(rule.kind, rule.thresholds or {}),
    }
