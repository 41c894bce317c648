"""Risk warnings: rules evaluated, warnings raised and resolved, acknowledged by a person;
rules changed by an admin.

A warning is saved first (its own savepoint: the partial unique index on `key` lets one open
warning per condition exist, so a beat run and a trade's evaluation racing to the same
condition leave one), then pushed to the tower's panels and told to every admin and
regulator, both after commit. An evaluation resolves the open warnings of its rule (within
what it looked at) whose condition it no longer finds. Running one twice changes nothing the
second time.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.notifications import notify_many

from ..models import RiskRule, RiskWarning
from ..risk import realtime
from ..risk.exceptions import (
    NotTowerWatcher,
    RuleRejected,
    WarningAlreadyAcknowledged,
    WarningNotFound,
)
from ..risk.kinds import RiskKind, RiskSeverity, default_thresholds, threshold_problems
from ..risk.rules import Finding, rule_kinds
from ..risk.rules.prices import price_key
from ..selectors.risk import warning_message, warnings_visible_to, watches_tower
from ..selectors.risk_scope import watcher_ids_of

NOTIFICATION_KIND = "tower.warning"


@dataclass
class Evaluation:
    raised: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)

    def add(self, other: "Evaluation") -> None:
        self.raised += other.raised
        self.resolved += other.resolved


def evaluate_rule(*, rule: RiskRule, now: datetime | None = None) -> Evaluation:
    """Evaluate one rule over everything it watches; a disabled rule only closes its warnings."""
    now = now or timezone.now()
    findings = rule_kinds()[rule.kind].evaluate(rule, now=now) if rule.is_enabled else []
    return _apply(rule=rule, findings=findings, within=f"{rule.pk}:", now=now)


def evaluate_all_rules(*, now: datetime | None = None) -> Evaluation:
    """Beat's run: every rule in turn, each in its own transaction."""
    now = now or timezone.now()
    done = Evaluation()
    for rule in RiskRule.objects.order_by("pk"):
        done.add(evaluate_rule(rule=rule, now=now))
    return done


def evaluate_prices_after_trade(
    *, market_id: int, product_id: int, now: datetime | None = None
) -> Evaluation:
    """A counter trade was recorded: the price rules for that market and product only."""
    now = now or timezone.now()
    done = Evaluation()
    rules = RiskRule.objects.filter(kind=RiskKind.PRICE_BAND, is_enabled=True).order_by("pk")
    for rule in rules:
        if rule.market_id is not None and rule.market_id != market_id:
            continue
        findings = rule_kinds()[rule.kind].evaluate(
            rule, now=now, market_id=market_id, product_id=product_id
        )
        within = f"{rule.pk}:{price_key(market_id=market_id, product_id=product_id)}"
        done.add(_apply(rule=rule, findings=findings, within=within, now=now))
    return done


def _apply(*, rule: RiskRule, findings: list[Finding], within: str, now: datetime) -> Evaluation:
    found = {f"{rule.pk}:{finding.key}": finding for finding in findings}
    done = Evaluation()
    with transaction.atomic():
        still_open = list(
            RiskWarning.objects.select_for_update(of=("self",))
            .filter(rule=rule, resolved_at__isnull=True, key__startswith=within)
            .select_related("subject_type", "acknowledged_by")
        )
        for warning in still_open:
            if warning.key not in found:
                warning.resolved_at = now
                warning.save(update_fields=["resolved_at"])
                realtime.push_warning(warning, event=realtime.RESOLVED)
                done.resolved.append(warning.pk)
        open_keys = {warning.key for warning in still_open}
        for key, finding in found.items():
            if key in open_keys:
                continue
            raised = _raise(rule=rule, key=key, finding=finding, now=now)
            if raised is not None:
                done.raised.append(raised.pk)
    return done


def _raise(*, rule: RiskRule, key: str, finding: Finding, now: datetime) -> RiskWarning | None:
    """Save the warning, then tell the panels and the people; None when another evaluation
    raised it a moment ago."""
    describe = rule_kinds()[rule.kind].describe
    with translation.override(settings.LANGUAGE_CODE):
        message = describe(finding.figures)
    try:
        with transaction.atomic():
            warning = RiskWarning.objects.create(
                rule=rule,
                kind=rule.kind,
                severity=rule.severity,
                subject_type=ContentType.objects.get_for_model(type(finding.subject)),
                subject_id=finding.subject.pk,
                key=key,
                message=message[:500],
                figures=finding.figures,
                raised_at=now,
            )
    except IntegrityError:
        return None
    realtime.push_warning(warning, event=realtime.RAISED)
    with translation.override(settings.LANGUAGE_CODE):
        notify_many(
            user_ids=watcher_ids_of(warning),
            kind=NOTIFICATION_KIND,
            title=_("Risk warning: %(kind)s") % {"kind": RiskKind(rule.kind).label},
            body=warning_message(warning),
            url=reverse("controltower:warnings"),
            payload={"warning_id": warning.pk, "kind": warning.kind},
        )
    return warning


@transaction.atomic
def acknowledge_warning(*, warning_id: int, by: User) -> RiskWarning:
    """An admin or a regulator has seen the warning; said once (a second time is refused)."""
    if not watches_tower(by):
        raise NotTowerWatcher()
    warning = warnings_visible_to(by).select_for_update(of=("self",)).filter(pk=warning_id).first()
    if warning is None:
        raise WarningNotFound()
    if warning.acknowledged_at is not None:
        raise WarningAlreadyAcknowledged()
    warning.acknowledged_at = timezone.now()
    warning.acknowledged_by = by
    warning.save(update_fields=["acknowledged_at", "acknowledged_by"])
    realtime.push_warning(warning, event=realtime.UPDATED)
    return warning


def update_rule(
    *,
    rule_id: int,
    thresholds: dict | None = None,
    is_enabled: bool | None = None,
    severity: str | None = None,
    name: str | None = None,
) -> RiskRule:
    """Change a rule. Every problem is refused at once (RuleRejected, by field and threshold
    name), nothing saved; missing thresholds keep their value. Disabling a rule closes its
    open warnings."""
    with transaction.atomic():
        rule = RiskRule.objects.select_for_update().get(pk=rule_id)
        errors: dict = {}
        if thresholds is not None:
            if not isinstance(thresholds, dict):
                errors["thresholds"] = [
                    str(_("Give the thresholds as an object of names and numbers."))
                ]
            elif problems := threshold_problems(rule.kind, thresholds):
                errors["thresholds"] = problems
            else:
                rule.thresholds = {**(rule.thresholds or {}), **thresholds}
        if severity is not None:
            if severity not in RiskSeverity.values:
                errors["severity"] = [str(_("Choose a severity from the list."))]
            else:
                rule.severity = severity
        if errors:
            raise RuleRejected(errors=errors)
        if is_enabled is not None:
            rule.is_enabled = is_enabled
        if name is not None:
            rule.name = name.strip()[:120]
        rule.full_clean()
        rule.save()
    if not rule.is_enabled:
        evaluate_rule(rule=rule)
    return rule


def create_default_rules() -> list[RiskRule]:
    """One rule of each kind with the default thresholds, watching everything, where none of
    that kind exists yet (seed_demo calls it; running it again adds nothing)."""
    made = []
    with transaction.atomic():
        for kind in RiskKind.values:
            if RiskRule.objects.filter(kind=kind).exists():
                continue
            made.append(
                RiskRule.objects.create(
                    kind=kind,
                    thresholds=default_thresholds(kind),
                    severity=RiskSeverity.CRITICAL
                    if kind in (RiskKind.REPEATED_POSITIVE_TESTS, RiskKind.EXCURSION_OPEN)
                    else RiskSeverity.WARNING,
                )
            )
    return made
