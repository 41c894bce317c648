"""Capturing a partner's EPCIS 2.0 document: accepted whole, or refused whole with every error.

`capture_document` checks, in this order, and lists every problem it finds:

1. GS1's JSON Schema (an EPCISDocument or EPCISQueryDocument). A document that fails it is
   not an EPCIS document: `DocumentRefused` is raised and nothing is stored, not even a job
   (the REST binding's 400 ValidationException).
2. Our rules, per event: it names at least one of our lots (identifiers.lot_ref_of), and every
   lot of ours it names is one the partner may report on; each quantity is above 0 and in a
   unit we know (CAPTURE_UNITS; a quantity without a unit counts items and is allowed); its
   eventTime is not later than now + FUTURE_SKEW; its eventID, when given, is not another
   partner's. A document breaking any rule gets a job with `success` false and the errors, and
   no event is stored.

An accepted document's events are stored as sent (`CapturedEvent`), each about the first lot
of ours it names (an event without its own @context gets the document's extension contexts). Sending a document again adds nothing: an event is known by its eventID, or,
when it has none, by an ID derived from a SHA-256 of its canonical content (the idea of CBV
2.0's event hash: the same event always gets the same ID). Processing is synchronous: the job
is finished when the request returns.
"""

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from farms.models import HarvestLot

from ..epcis.lot_refs import (
    LotRef,
    identifiers_of,
    lot_ref_of,
    quantity_elements,
    where_named,
)
from ..epcis.schema import validator
from ..exceptions import TraceabilityError
from ..models import CapturedEvent, CaptureJob, PartnerSystem, TraceCode
from ..selectors.epcis_partners import lots_partner_may_report_on
from ..selectors.public import cache_key

# UN/CEFACT Rec. 20 codes of a mass, the only quantities a lot is counted in.
CAPTURE_UNITS = ("KGM", "GRM", "TNE", "LBR")
FUTURE_SKEW = timedelta(minutes=5)  # clocks differ; an event later than this is refused
# Per document (GS1-EPCIS-Capture-Limit), checked before anything else. GS1's schema takes
# about 5 ms an event here (jsonschema, formats checked): 1,000 events is a ~6 s request.
MAX_EVENTS = 1_000
MAX_EVENT_ID = 300
REQUIRED = re.compile(r"^'(.+)' is a required property$")
PROBLEM_TYPE = "epcisException:ValidationException"


@dataclass(frozen=True)
class CaptureProblem:
    """One error, as an RFC 7807 problem with where it is: the event's index in the
    document's event list (None for the document itself) and the field, a JSON pointer
    within the event (or the document)."""

    title: str
    event_index: int | None
    field: str

    def as_problem(self) -> dict:
        found = asdict(self)
        return {
            "type": PROBLEM_TYPE,
            "title": found["title"],
            "status": 400,
            "eventIndex": found["event_index"],
            "field": found["field"],
        }


class DocumentTooLarge(TraceabilityError):
    """More events than MAX_EVENTS: split the document (nothing stored)."""

    default_message = gettext_lazy("Send at most %(count)s events in one document.")


class DocumentRefused(TraceabilityError):
    """The document breaks GS1's schema: nothing stored."""

    default_message = gettext_lazy("The document is not a valid EPCIS 2.0 document.")

    def __init__(self, problems: list[CaptureProblem]):
        super().__init__()
        self.problems = problems


# --- Reading the document ---------------------------------------------------------------------


def event_list_path(document: dict) -> tuple[str, ...]:
    if document.get("type") == "EPCISQueryDocument":
        return ("epcisBody", "queryResults", "resultsBody", "eventList")
    return ("epcisBody", "eventList")


def events_of(document: dict) -> list:
    found: object = document
    for name in event_list_path(document):
        found = found.get(name) if isinstance(found, dict) else None
    return found if isinstance(found, list) else []


def _pointer(parts) -> str:
    return "/".join(str(part) for part in parts)


def schema_problems(document) -> list[CaptureProblem]:
    """Every way the document breaks GS1's schema, each with its event and field."""
    prefix = list(event_list_path(document)) if isinstance(document, dict) else []
    problems = []
    for error in sorted(validator().iter_errors(document), key=lambda e: list(map(str, e.path))):
        path = list(error.path)
        if error.validator == "required":  # the field at fault is the one missing
            missing = REQUIRED.match(error.message)
            path += [missing[1]] if missing else []
        if path[: len(prefix)] == prefix and len(path) > len(prefix):
            index, field = path[len(prefix)], _pointer(path[len(prefix) + 1 :])
        else:
            index, field = None, _pointer(path)
        problems.append(CaptureProblem(title=error.message, event_index=index, field=field))
    return problems


def derived_event_id(event: dict) -> str:
    """An ID for an event sent without one: the SHA-256 of its canonical JSON (keys sorted,
    no spaces), leaving out what a resend may change (recordTime) and the ID itself."""
    content = {k: v for k, v in event.items() if k not in ("eventID", "recordTime")}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"ni:///sha-256;{hashlib.sha256(canonical.encode()).hexdigest()}?ver=CBV2.0"


def _parse_time(value) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


# --- Our rules ----------------------------------------------------------------------------------


@dataclass
class _Checked:
    index: int
    event: dict
    event_id: str
    event_time: datetime
    identifiers: list[str]
    lot_id: int | None = None


def _lots_named(refs: set[LotRef]) -> dict[LotRef, HarvestLot]:
    codes = {ref.lot_code for ref in refs}
    lots = HarvestLot.objects.filter(lot_code__in=codes).select_related("product")
    by_code = {lot.lot_code: lot for lot in lots}
    found = {}
    for ref in refs:
        lot = by_code.get(ref.lot_code)
        if lot is None:
            continue
        if ref.gtin and (lot.product.gtin or "").zfill(14) != ref.gtin:
            continue  # the lot code is ours, but not with this product's GTIN
        found[ref] = lot
    return found


def _quantity_problems(index: int, event: dict) -> list[CaptureProblem]:
    problems = []
    for name, n, element in quantity_elements(event):
        quantity, unit = element.get("quantity"), element.get("uom")
        if isinstance(quantity, int | float) and quantity <= 0:
            problems.append(
                CaptureProblem(_("Enter a quantity above 0."), index, f"{name}/{n}/quantity")
            )
        if unit is not None and unit not in CAPTURE_UNITS:
            problems.append(
                CaptureProblem(
                    _("Unknown unit %(unit)s: use one of %(units)s.")
                    % {"unit": unit, "units": ", ".join(CAPTURE_UNITS)},
                    index,
                    f"{name}/{n}/uom",
                )
            )
    return problems


def _check(partner: PartnerSystem, events: list, now: datetime):
    """(problems, checked events) of the document's events under our rules."""
    problems: list[CaptureProblem] = []
    checked: list[_Checked] = []
    for index, event in enumerate(events):
        event_time = _parse_time(event.get("eventTime"))
        if event_time is None:  # the schema has checked it; a last guard
            problems.append(CaptureProblem(_("Give the event's time."), index, "eventTime"))
            continue
        if event_time > now + FUTURE_SKEW:
            problems.append(
                CaptureProblem(_("The event's time is in the future."), index, "eventTime")
            )
        problems.extend(_quantity_problems(index, event))
        event_id = event.get("eventID") or derived_event_id(event)
        if len(event_id) > MAX_EVENT_ID:
            title = _("Keep the event's ID within %(count)s characters.") % {"count": MAX_EVENT_ID}
            problems.append(CaptureProblem(title, index, "eventID"))
            continue
        checked.append(_Checked(index, event, event_id, event_time, identifiers_of(event)))

    refs = {ref for c in checked for uri in c.identifiers if (ref := lot_ref_of(uri))}
    lots = _lots_named(refs)
    allowed = set(
        lots_partner_may_report_on(partner)
        .filter(pk__in=[lot.pk for lot in lots.values()])
        .values_list("pk", flat=True)
    )
    for c in checked:
        ours = [(uri, lots[ref]) for uri in c.identifiers if (ref := lot_ref_of(uri)) in lots]
        if not ours:
            problems.append(
                CaptureProblem(
                    _("The event names none of our lots."), c.index, where_named(c.event)
                )
            )
            continue
        for uri, lot in ours:
            if lot.pk not in allowed:
                problems.append(
                    CaptureProblem(
                        _("You may not report on lot %(lot)s (%(uri)s).")
                        % {"lot": lot.lot_code, "uri": uri},
                        c.index,
                        where_named(c.event, uri),
                    )
                )
        permitted = [lot for _uri, lot in ours if lot.pk in allowed]
        c.lot_id = permitted[0].pk if permitted else None

    ids = {c.event_id for c in checked}
    taken = dict(
        CapturedEvent.objects.filter(event_id__in=ids)
        .exclude(partner=partner)
        .values_list("event_id", "partner_id")
    )
    problems.extend(
        CaptureProblem(_("Another partner has sent an event with this ID."), c.index, "eventID")
        for c in checked
        if c.event_id in taken
    )
    problems.sort(key=lambda p: (-1 if p.event_index is None else p.event_index, p.field))
    return problems, checked


# --- The service ------------------------------------------------------------------------------


def capture_document(
    *, partner: PartnerSystem, document, now: datetime | None = None
) -> CaptureJob:
    """Check the document and store its events, or none of them (see the module docstring).
    Raises DocumentTooLarge for more than MAX_EVENTS events and DocumentRefused for a
    document the schema refuses (nothing stored); otherwise returns the finished
    job (success true or false, with its errors)."""
    if isinstance(document, dict) and len(events_of(document)) > MAX_EVENTS:
        raise DocumentTooLarge(DocumentTooLarge.default_message % {"count": MAX_EVENTS})
    problems = schema_problems(document)
    if problems:
        raise DocumentRefused(problems)
    now = now or timezone.now()
    events = events_of(document)
    with transaction.atomic():
        job = CaptureJob.objects.create(partner=partner, received_at=now)
        problems, checked = _check(partner, events, now)
        job.event_count = len(events)
        if problems:
            job.success = False
            job.errors = [problem.as_problem() for problem in problems]
        else:
            # The same event twice in one document counts once; an event already captured
            # (the same eventID) is skipped by the unique constraint.
            unique = {c.event_id: c for c in checked}
            context = extra_context(document)
            CapturedEvent.objects.bulk_create(
                [
                    _captured(c, partner=partner, job=job, now=now, context=context)
                    for c in unique.values()
                ],
                ignore_conflicts=True,
            )
            job.success = True
            job.new_event_count = CapturedEvent.objects.filter(job=job).count()
            lot_ids = {c.lot_id for c in unique.values() if c.lot_id is not None}
            transaction.on_commit(partial(forget_public_traces, lot_ids))
        job.finished_at = timezone.now()
        job.save(
            update_fields=["event_count", "new_event_count", "success", "errors", "finished_at"]
        )
    return job


def forget_public_traces(lot_ids: set[int]) -> None:
    """The trace pages of these lots show the new events at once, not after the cache's
    few minutes."""
    codes = TraceCode.objects.filter(lot_id__in=lot_ids).values_list("lot_id", "pk")
    pairs = [(lot_id, None) for lot_id in lot_ids] + list(codes)
    cache.delete_many(
        [
            cache_key(lot_id, code_id, lang)
            for lot_id, code_id in pairs
            for lang, _n in settings.LANGUAGES
        ]
    )


def extra_context(document: dict) -> list:
    """The document's JSON-LD contexts besides GS1's own (a partner's extension namespaces)."""
    found = document.get("@context") or []
    contexts = found if isinstance(found, list) else [found]
    return [c for c in contexts if not (isinstance(c, str) and c.endswith("epcis-context.jsonld"))]


def _captured(c: _Checked, *, partner, job, now, context: list) -> CapturedEvent:
    """The event as sent; an event without its own @context gets the document's extension
    contexts, so its extension fields keep their meaning outside the document."""
    assert c.lot_id is not None  # an accepted event names a lot the partner may report on
    event = c.event
    if context and "@context" not in event:
        event = {"@context": context, **event}
    location = event.get("bizLocation")
    return CapturedEvent(
        event_id=c.event_id,
        partner=partner,
        job=job,
        lot_id=c.lot_id,
        event_type=str(c.event.get("type", "")),
        event_time=c.event_time,
        record_time=now,
        biz_step=str(c.event.get("bizStep", "")),
        biz_location=str(location.get("id", "")) if isinstance(location, dict) else "",
        epcs=c.identifiers,
        event=event,
    )
