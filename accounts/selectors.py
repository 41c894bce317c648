"""Reads of the accounts app that pages and the API share."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet

from common.dates import BUSINESS_TIME_ZONE

from .backends import account_signing_in
from .models import AuditEntry, User


def person_named(typed: str) -> User | None:
    """The account an admin names in a filter: by mobile number, by id (digits), or by
    username in any case."""
    typed = typed.strip()
    if not typed:
        return None
    account = account_signing_in(typed)
    if account is None and typed.isdigit():
        account = User._default_manager.filter(pk=int(typed)).first()
    return account


def start_of_business_day(day: date) -> datetime:
    """The first moment of an Asia/Shanghai date."""
    return datetime.combine(day, time.min, tzinfo=BUSINESS_TIME_ZONE)


@dataclass(frozen=True)
class AuditQuery:
    """What the platform admin filters the log by; empty fields filter nothing. Dates are
    Asia/Shanghai dates, both included."""

    action: str = ""
    actor: User | None = None
    subject: User | None = None
    since: date | None = None
    until: date | None = None
    address: str = ""


def audit_entries(query: AuditQuery) -> QuerySet[AuditEntry]:
    """The audit log, newest first, filtered. Each filter has its index (by action, actor or
    person concerned, each with the time; the time alone), so a page reads only its rows."""
    entries = AuditEntry.objects.select_related("actor", "subject").order_by("-at", "-id")
    if query.action:
        entries = entries.filter(action=query.action)
    if query.actor is not None:
        entries = entries.filter(actor=query.actor)
    if query.subject is not None:
        entries = entries.filter(subject=query.subject)
    if query.since is not None:
        entries = entries.filter(at__gte=start_of_business_day(query.since))
    if query.until is not None:
        entries = entries.filter(at__lt=start_of_business_day(query.until + timedelta(days=1)))
    if query.address:
        entries = entries.filter(client_address=query.address)
    return entries


def older_than(entries: QuerySet[AuditEntry], before_id: int | None) -> QuerySet[AuditEntry]:
    """The entries after `before_id` in newest-first order (a page further): a range on the
    time index, however far back, where an OFFSET would read every row it skips."""
    if before_id is None:
        return entries
    anchor = AuditEntry.objects.filter(pk=before_id).values_list("at", flat=True).first()
    if anchor is None:
        return entries
    return entries.filter(Q(at__lt=anchor) | Q(at=anchor, id__lt=before_id), at__lte=anchor)
