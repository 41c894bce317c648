"""Every write a recall allows: open it, list its scope and tell its parties, acknowledge
it, record what was returned or destroyed, close it.

Opening is one transaction that starts by locking the lot's row FOR UPDATE (through the lot's
hold), so it waits for sales of the lot in flight (they lock it FOR SHARE) and blocks new ones
until it commits: a sale that committed first is in the frozen scope, a sale that starts later
sees the hold and is refused. The scope is frozen in that transaction as each kind's count,
kilograms and record ids (one INSERT … SELECT over the lot's trail, tens of ms for a hundred
thousand records). Listing it record by record, with whom each is with, and telling every
party (a notice each, saved, then pushed) takes seconds for such a lot: it runs right after
the opening commits (traceability.tasks.list_recall_scope), not under the lot's lock.
"""

from collections import defaultdict
from decimal import Decimal, InvalidOperation
from functools import partial

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.notifications import notify_many
from common.bulk import cyclic_gc_paused
from farms.choices import HoldSource
from farms.models import HarvestLot
from farms.selectors import cooperative_manager_ids
from farms.services.holds import place_hold, release_hold
from marketplace.markets.selectors.lot_trail import markets_of_lot
from marketplace.services.listings import pause_listings_of_lot

from .. import tasks
from ..choices import DownstreamKind, TrailStep
from ..exceptions import (
    DispositionTooLarge,
    InvalidRecall,
    NotRecallParty,
    RecallAlreadyOpen,
    RecallClosed,
    RecallForbidden,
    RecallLotNotFound,
    RecallNotFound,
)
from ..models import (
    Recall,
    RecallDisposition,
    RecallNotice,
    RecallReach,
    RecallScopeKind,
    RecallScopeRow,
    RecallSeverity,
)
from ..selectors.downstream import TOTALS_SQL, downstream_params
from ..selectors.recalls import (
    frozen_downstream,
    may_recall_lot,
    recall_visible_to,
    runs_recall,
)
from ..trail import Downstream

RECALL_OPENED = "recall.opened"
RECALL_CLOSED = "recall.closed"
MAX_REASON = 500
KG_STEP = Decimal("0.001")

# Who holds a record of each kind (its party_id) and who else is told of it.
PARTY_REACH = {
    DownstreamKind.LISTING: RecallReach.SELLER,
    DownstreamKind.MARKETPLACE_ORDER_LINE: RecallReach.BUYER,
    DownstreamKind.MARKET_TRADE: RecallReach.BUYER,
    DownstreamKind.SHIPMENT: RecallReach.SHIPMENT,
    DownstreamKind.STOCK_LOT: RecallReach.WAREHOUSE,
    DownstreamKind.CONSUMER_ORDER_LINE: RecallReach.CONSUMER,
}
STAFF_REACH = {
    DownstreamKind.MARKET_TRADE: RecallReach.MARKET,
    DownstreamKind.SHIPMENT: RecallReach.SHIPMENT,
    DownstreamKind.STOCK_LOT: RecallReach.WAREHOUSE,
}


# Input checks: each refusal names the field at fault.


def _clean_text(value, *, field: str, required: bool, limit: int = MAX_REASON) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise InvalidRecall(_("Say why."), field=field)
    if len(text) > limit:
        raise InvalidRecall(
            _("At most %(limit)s characters, please.") % {"limit": limit}, field=field
        )
    return text


def _clean_severity(value) -> str:
    if value not in RecallSeverity.values:
        raise InvalidRecall(_("Choose a severity: class I, II or III."), field="severity")
    return str(value)


def _clean_lot_id(value) -> int:
    try:
        return int(getattr(value, "pk", value))
    except (TypeError, ValueError):
        raise RecallLotNotFound() from None


def _clean_kg(value, *, field: str) -> Decimal:
    if value in (None, ""):
        return Decimal("0.000")
    try:
        kg = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidRecall(_("Enter a weight in kilograms."), field=field) from None
    if not kg.is_finite() or kg < 0:
        raise InvalidRecall(_("Enter a weight of zero or more."), field=field)
    if kg != kg.quantize(KG_STEP):
        raise InvalidRecall(_("At most 3 decimals (grams)."), field=field)
    return kg.quantize(KG_STEP)


def recall_url(recall: Recall) -> str:
    return reverse("traceability:recall_detail", args=[recall.pk])


# Opening


def open_recall(*, lot_id, reason: str, severity: str, opened_by: User) -> Recall:
    """Open a recall of the lot and, in the same transaction: hold the lot everywhere (source
    recall, reference "recall:<id>"), freeze its downstream scope and pause its listings on
    sale. Once it commits, its scope is listed and every party told (list_recall_scope, queued
    for the worker).

    Rules: the opener may recall the lot (a manager of its co-operative, a supervisor of a
    market where it was checked in or traded, the platform admin; anyone else: not found);
    a reason and a severity are given; the lot has no open recall. Any refusal saves nothing.
    """
    reason = _clean_text(reason, field="reason", required=True)
    severity = _clean_severity(severity)
    lot_pk = _clean_lot_id(lot_id)
    with transaction.atomic():
        # The lot first (LOCK ORDER RULE): sales of it in flight finish, new ones wait.
        lot = (
            HarvestLot.objects.select_for_update(of=("self",))
            .select_related("farm", "product")
            .filter(pk=lot_pk)
            .first()
        )
        if lot is None or not may_recall_lot(opened_by, lot):
            raise RecallLotNotFound()
        already = Recall.objects.filter(lot=lot, closed_at__isnull=True).first()
        if already is not None:
            raise RecallAlreadyOpen(
                _("This lot already has an open recall (%(recall)s).") % {"recall": already}
            )
        now = timezone.now()
        recall = Recall.objects.create(
            lot=lot,
            cooperative_id=lot.farm.cooperative_id,
            market_ids=markets_of_lot(lot.pk),
            reason=reason,
            severity=severity,
            opened_by=opened_by,
            opened_at=now,
        )
        recall.hold = place_hold(
            lot=lot,
            source=HoldSource.RECALL,
            reference=recall.hold_reference,
            reason=_("Recalled (%(recall)s): %(reason)s") % {"recall": recall, "reason": reason},
            placed_by=opened_by,
        )
        recall.save(update_fields=["hold", "updated_at"])
        freeze_scope(recall=recall)
        pause_listings_of_lot(lot=lot, reason=recall.hold.reason, by=opened_by)
        transaction.on_commit(partial(tasks.list_recall_scope.delay, recall.pk), robust=True)
    return recall


# The trace's aggregate of the lot's trail (each step's count, kilograms and packed ids), kept.
FREEZE_SQL = f"""
INSERT INTO {RecallScopeKind._meta.db_table}
       (recall_id, step, records, quantity_kg, record_ids, source_ids)
SELECT %(recall)s, step, records, coalesce(kg, 0), ids, sources
  FROM ({TOTALS_SQL}) AS totals (step, records, kg, ids, sources)
"""


def freeze_scope(*, recall: Recall) -> int:
    """The recall's scope frozen, in its opening transaction (under the lot's lock): what is
    downstream of the lot now, as each kind's count, kilograms and record ids, in one
    statement that never brings the records to Python. Returns the number of records."""
    with connection.cursor() as cursor:
        cursor.execute(FREEZE_SQL, {**downstream_params(recall.lot_id), "recall": recall.pk})
    frozen = RecallScopeKind.objects.filter(recall=recall).exclude(step=TrailStep.STOCK_RECEIPT)
    return sum(frozen.values_list("records", flat=True))


def list_recall_scope(*, recall_id: int) -> int:
    """After the opening commits: the frozen scope listed record by record (RecallScopeRow,
    with whom each record is with and whom to tell) and every party told (a notice and a
    notification each, pushed after commit). Returns the number of rows; a recall already
    listed is left alone (0), so a second run (a retried task, the sweep) does nothing."""
    with transaction.atomic():
        recall = (
            Recall.objects.select_for_update(of=("self",))
            .select_related("lot__product", "opened_by")
            .filter(pk=recall_id, listed_at__isnull=True)
            .first()
        )
        if recall is None:
            return 0
        downstream = frozen_downstream(recall)
        rows = write_scope_rows(recall=recall, downstream=downstream)
        _tell_parties(recall, downstream, now=recall.opened_at)
        recall.listed_at = timezone.now()
        recall.save(update_fields=["listed_at", "updated_at"])
    return rows


def list_waiting_recalls() -> list[int]:
    """The safety net: recalls whose listing task was lost (a worker restarted) are listed."""
    waiting = Recall.objects.filter(listed_at__isnull=True).order_by("pk")
    return [pk for pk in waiting.values_list("pk", flat=True) if list_recall_scope(recall_id=pk)]


SCOPE_COLUMNS = (
    "recall_id", "position", "kind", "record_id", "at", "quantity_kg", "holder", "reference",
    "status", "parent_kind", "parent_id", "party_user_id", "user_ids",
)  # fmt: skip
KIND_TEXT = {kind: kind.value for kind in DownstreamKind}
# As COPY's text format sends them; user_ids as an array's text ("{1,2}"), parsed by the server.
SCOPE_TYPES = (
    "int8", "int8", "text", "int8", "timestamptz", "numeric", "text", "text", "text", "text",
    "int8", "int8", "text",
)  # fmt: skip


def write_scope_rows(*, recall: Recall, downstream: Downstream) -> int:
    """Write the recall's scope, one row per record of its frozen scope in its order, with one
    COPY (a hundred thousand rows in about a second, where row inserts took tens of seconds);
    returns the number of rows. A step of list_recall_scope: the rows are the recall's for
    good. Who answers for a record (party_user) is its party, else the first of those told.

    Each column's type is given once (no dumper looked up per value) and the list of those
    told goes as PostgreSQL's array text, made once per distinct list: psycopg's list dumper
    took half the time of the whole COPY.
    """
    statement = f"COPY {RecallScopeRow._meta.db_table} ({', '.join(SCOPE_COLUMNS)}) FROM STDIN"
    recall_id = recall.pk
    arrays: dict[tuple[int, ...], str] = {}
    # Read before the COPY opens: a Downstream reads its records on first use, and the
    # connection runs nothing else while a COPY is open (it would wait on itself for ever).
    records = downstream.records
    with cyclic_gc_paused(), connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        copy.set_types(SCOPE_TYPES)
        write_row = copy.write_row
        for position, record in enumerate(records):
            parent = record.parent
            party = record.party_id
            user_ids = record.user_ids
            if party is None and user_ids:
                party = user_ids[0]
            told = arrays.get(user_ids)
            if told is None:
                told = arrays[user_ids] = "{" + ",".join(map(str, user_ids)) + "}"
            write_row((
                recall_id, position, KIND_TEXT[record.kind], record.id, record.at, record.quantity_kg,
                str(record.holder)[:200], str(record.reference)[:120], str(record.status)[:24],
                KIND_TEXT[parent[0]] if parent else "", parent[1] if parent else None, party, told,
            ))  # fmt: skip
    return len(records)


def _reach_of(recall: Recall, downstream: Downstream) -> dict[int, set[str]]:
    reach: defaultdict[int, set[str]] = defaultdict(set)
    for record in downstream.records:
        for user_id in record.user_ids:
            if user_id == record.party_id or record.kind not in STAFF_REACH:
                reach[user_id].add(PARTY_REACH[record.kind])
            else:
                reach[user_id].add(STAFF_REACH[record.kind])
    for user_id in cooperative_manager_ids(recall.cooperative_id):
        reach[user_id].add(RecallReach.COOPERATIVE)
    return reach


def _tell_parties(recall: Recall, downstream: Downstream, *, now) -> None:
    """A notice and a notification for everyone reached, but the opener."""
    reach = _reach_of(recall, downstream)
    reach.pop(recall.opened_by_id, None)
    lot = recall.lot
    title = _("Recall of %(product)s, lot %(lot)s: %(severity)s") % {
        "product": lot.product,
        "lot": lot.lot_code,
        "severity": recall.get_severity_display(),
    }
    body = _("%(reason)s Please acknowledge, and record what you returned or destroyed.") % {
        "reason": recall.reason.rstrip(".。") + ".",
    }
    url = recall_url(recall)
    payload = {"recall_id": recall.pk, "lot_id": lot.pk, "severity": recall.severity}
    user_ids = (
        User.objects.filter(pk__in=reach.keys(), is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    notifications = notify_many(
        user_ids=user_ids, kind=RECALL_OPENED, title=title, body=body, url=url, payload=payload
    )
    # One COPY: model rows for tens of thousands of notices took seconds under the lot's lock.
    columns = "recall_id, user_id, reached_as, notification_id, notified_at, acknowledgement_note"
    statement = f"COPY {RecallNotice._meta.db_table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for user_id, notification in notifications.items():
            copy.write_row((recall.pk, user_id, sorted(reach[user_id]), notification.pk, now, ""))


# A party's answers


def acknowledge_recall(*, recall_id, by: User, note: str = "") -> RecallNotice:
    """The party says she received the recall notice. Only those told may; acknowledging
    again changes nothing; a closed recall takes no more acknowledgements."""
    note = _clean_text(note, field="note", required=False, limit=300)
    with transaction.atomic():
        recall = _lock_recall(recall_id, by)
        notice = RecallNotice.objects.select_for_update().filter(recall=recall, user=by).first()
        if notice is None:
            raise NotRecallParty()
        if notice.acknowledged_at is None:
            if not recall.is_open:
                raise RecallClosed()
            notice.acknowledged_at = timezone.now()
            notice.acknowledgement_note = note
            notice.save(update_fields=["acknowledged_at", "acknowledgement_note"])
    return notice


def record_disposition(
    *, recall_id, scope_row_id, returned_kg=None, destroyed_kg=None, note: str = "", by: User
) -> RecallDisposition:
    """Kilograms of one record of the scope returned and/or destroyed.

    Rules: by one of those told of that record, or who runs the recall; while it is open; at
    least one weight above zero, in kilograms with at most 3 decimals; all the record's
    dispositions together never exceed its quantity (the left amount is shown).
    """
    returned = _clean_kg(returned_kg, field="returned_kg")
    destroyed = _clean_kg(destroyed_kg, field="destroyed_kg")
    note = _clean_text(note, field="note", required=False, limit=300)
    if returned + destroyed <= 0:
        raise InvalidRecall(_("Enter the kilograms returned or destroyed."), field="returned_kg")
    with transaction.atomic():
        recall = _lock_recall(recall_id, by)
        if not recall.is_open:
            raise RecallClosed()
        try:
            row_pk = int(scope_row_id)
        except (TypeError, ValueError):
            row_pk = 0
        row = RecallScopeRow.objects.select_for_update().filter(recall=recall, pk=row_pk).first()
        if row is None or not (by.pk in row.user_ids or runs_recall(by, recall)):
            raise InvalidRecall(
                _("Not a record of this recall you may answer for."), field="scope_row"
            )
        done = sum(
            (d.returned_kg + d.destroyed_kg for d in row.dispositions.all()), Decimal("0.000")
        )
        left = row.quantity_kg - done
        if returned + destroyed > left:
            raise DispositionTooLarge(
                _("Only %(left)s kg of this record is left to account for.") % {"left": left}
            )
        return RecallDisposition.objects.create(
            recall=recall,
            scope_row=row,
            returned_kg=returned,
            destroyed_kg=destroyed,
            note=note,
            recorded_by=by,
            recorded_at=timezone.now(),
        )


# Closing


def close_recall(*, recall_id, by: User, false_alarm: bool = False, note: str = "") -> Recall:
    """Close the recall (its report can then be downloaded) and tell those it reached.

    Rules: by who may open it; once. The lot stays held unless the closer calls it a false
    alarm: then its hold is released (the listings stay paused: the seller resumes them).
    """
    note = _clean_text(note, field="note", required=bool(false_alarm))
    with transaction.atomic():
        recall = _lock_recall(recall_id, by)
        if not runs_recall(by, recall):
            raise RecallForbidden()
        if not recall.is_open:
            raise RecallClosed()
        recall.closed_at = timezone.now()
        recall.closed_by = by
        recall.close_note = note
        recall.false_alarm = bool(false_alarm)
        recall.save(
            update_fields=["closed_at", "closed_by", "close_note", "false_alarm", "updated_at"]
        )
        if recall.false_alarm and recall.hold is not None:
            release_hold(hold=recall.hold, released_by=by, note=note)
        _tell_closed(recall)
    return recall


def _tell_closed(recall: Recall) -> None:
    if recall.false_alarm:
        body = _("It was a false alarm: the lot may be sold again.")
    else:
        body = _("The lot stays withdrawn from sale.")
    title = _("Recall %(recall)s of lot %(lot)s closed") % {
        "recall": recall,
        "lot": recall.lot.lot_code,
    }
    notify_many(
        user_ids=recall.notices.order_by("id").values_list("user_id", flat=True),
        kind=RECALL_CLOSED,
        title=title,
        body=body,
        url=recall_url(recall),
        payload={"recall_id": recall.pk, "false_alarm": recall.false_alarm},
    )


def _lock_recall(recall_id, user: User) -> Recall:
    """The recall, locked, if the user may see it (RecallNotFound otherwise)."""
    recall = recall_visible_to(user, recall_id)
    locked = (
        Recall.objects.select_for_update(of=("self",))
        .select_related("lot", "hold")
        .filter(pk=recall.pk)
        .first()
    )
    if locked is None:
        raise RecallNotFound()
    return locked
