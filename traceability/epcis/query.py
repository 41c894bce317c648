"""The query interface's parameters (a subset of GS1's REST binding, same names) and what they
keep: parsed with every problem listed, then applied to (key, eventID, event) triples.

- eventType: ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent,
  AssociationEvent (repeat the parameter or separate by commas, as for every list below);
- GE_eventTime / LT_eventTime: an RFC 3339 time with its offset;
- EQ_bizStep: a CBV business step (`receiving` or its URI `https://ref.gs1.org/cbv/BizStep-…`);
- MATCH_epc: epcList and childEPCs; MATCH_anyEPC: those, inputs, outputs and parentID;
  MATCH_epcClass: the classes of quantityList and its relatives. A value ending in `*`
  matches by prefix;
- EQ_bizLocation: the business location's ID;
- perPage (1–1000, 100 by default) and nextPageToken (opaque; keyset paging on
  (eventTime, eventID), so pages are complete and in order).
"""

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from django.utils.translation import gettext as _

from .events import Event, time_key

EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
BIZ_STEP_URI = "https://ref.gs1.org/cbv/BizStep-"
LIST_PARAMETERS = (
    "eventType",
    "EQ_bizStep",
    "MATCH_epc",
    "MATCH_anyEPC",
    "MATCH_epcClass",
    "EQ_bizLocation",
)
PARAMETERS = (*LIST_PARAMETERS, "GE_eventTime", "LT_eventTime", "perPage", "nextPageToken")
DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000


class QueryError(Exception):
    """Every problem of a query's parameters, by parameter."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


@dataclass
class EventQuery:
    event_types: list[str] = field(default_factory=list)
    since: str | None = None  # time keys (events.time_key)
    before: str | None = None
    biz_steps: list[str] = field(default_factory=list)
    epcs: list[str] = field(default_factory=list)
    any_epcs: list[str] = field(default_factory=list)
    epc_classes: list[str] = field(default_factory=list)
    biz_locations: list[str] = field(default_factory=list)
    # /epcis/epcs/{epc}/events: the EPC as any EPC or as a class
    epcs_or_classes: list[str] = field(default_factory=list)
    per_page: int = DEFAULT_PER_PAGE
    after: tuple[str, str] | None = None  # the last (key, eventID) of the previous page

    def keeps(self, event: Event) -> bool:
        key, _id, body = event
        if self.after is not None and (key, event[1]) <= self.after:
            return False
        if self.since is not None and key < self.since:
            return False
        if self.before is not None and key >= self.before:
            return False
        if self.event_types and body.get("type") not in self.event_types:
            return False
        if self.biz_steps and _biz_step(body.get("bizStep")) not in self.biz_steps:
            return False
        if self.biz_locations and (body.get("bizLocation") or {}).get("id") not in (
            self.biz_locations
        ):
            return False
        if self.epcs and not _matches(self.epcs, epcs_of(body)):
            return False
        if self.any_epcs and not _matches(self.any_epcs, any_epcs_of(body)):
            return False
        if self.epc_classes and not _matches(self.epc_classes, classes_of(body)):
            return False
        return not (
            self.epcs_or_classes
            and not _matches(self.epcs_or_classes, any_epcs_of(body) + classes_of(body))
        )

    def named_identifiers(self) -> list[str]:
        """Every EPC or class the query names (all must match one of them)."""
        return [*self.epcs, *self.any_epcs, *self.epc_classes, *self.epcs_or_classes]


def _biz_step(value: Any) -> Any:
    return value.removeprefix(BIZ_STEP_URI) if isinstance(value, str) else value


def _matches(patterns: list[str], values: Iterable[str]) -> bool:
    values = list(values)
    for pattern in patterns:
        if pattern.endswith("*"):
            if any(v.startswith(pattern[:-1]) for v in values):
                return True
        elif pattern in values:
            return True
    return False


def epcs_of(event: dict) -> list[str]:
    return [*event.get("epcList", ()), *event.get("childEPCs", ())]


def any_epcs_of(event: dict) -> list[str]:
    found = [
        *epcs_of(event),
        *event.get("inputEPCList", ()),
        *event.get("outputEPCList", ()),
    ]
    if event.get("parentID"):
        found.append(event["parentID"])
    return found


def classes_of(event: dict) -> list[str]:
    lists = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
    return [q.get("epcClass", "") for name in lists for q in event.get(name, ())]


def _values(params, name: str) -> list[str]:
    return [v.strip() for raw in params.getlist(name) for v in raw.split(",") if v.strip()]


def _time(raw: str, errors: dict, name: str) -> str | None:
    try:
        moment = datetime.fromisoformat(raw.strip().replace("z", "Z"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        errors[name] = [
            _("Give a time in RFC 3339 form with its offset, e.g. 2026-05-01T08:00:00+08:00.")
        ]
        return None
    return time_key(moment)


def page_token(after: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(after))).decode().rstrip("=")


def _after(raw: str) -> tuple[str, str] | None:
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        return None
    if (
        isinstance(decoded, list)
        and len(decoded) == 2
        and all(isinstance(part, str) for part in decoded)
    ):
        return decoded[0], decoded[1]
    return None


def parse_query(params, *, allowed: Iterable[str] = PARAMETERS) -> EventQuery:
    """The query the parameters ask for; QueryError with every problem otherwise."""
    allowed = tuple(allowed)
    errors: dict[str, list[str]] = {}
    for name in params:
        if name not in allowed:
            errors[name] = [_("Unknown query parameter.")]
    query = EventQuery(
        event_types=_values(params, "eventType"),
        biz_steps=[_biz_step(v) for v in _values(params, "EQ_bizStep")],
        epcs=_values(params, "MATCH_epc"),
        any_epcs=_values(params, "MATCH_anyEPC"),
        epc_classes=_values(params, "MATCH_epcClass"),
        biz_locations=_values(params, "EQ_bizLocation"),
    )
    unknown_types = [t for t in query.event_types if t not in EVENT_TYPES]
    if unknown_types:
        errors["eventType"] = [
            _("Unknown event type %(types)s; use %(known)s.")
            % {"types": ", ".join(unknown_types), "known": ", ".join(EVENT_TYPES)}
        ]
    for name, attribute in (("GE_eventTime", "since"), ("LT_eventTime", "before")):
        if params.get(name) is not None:
            setattr(query, attribute, _time(params.get(name), errors, name))
    raw_per_page = params.get("perPage")
    if raw_per_page is not None:
        if raw_per_page.isdigit() and 1 <= int(raw_per_page) <= MAX_PER_PAGE:
            query.per_page = int(raw_per_page)
        else:
            errors["perPage"] = [
                _("Give a whole number from 1 to %(max)s.") % {"max": MAX_PER_PAGE}
            ]
    raw_token = params.get("nextPageToken")
    if raw_token is not None:
        query.after = _after(raw_token)
        if query.after is None:
            errors["nextPageToken"] = [_("This page token is not one we gave out.")]
    if errors:
        raise QueryError(errors)
    return query


def one_page(query: EventQuery, events: Iterable[Event]) -> tuple[list[Event], str | None]:
    """The page of the (key, eventID)-ordered events the query keeps, and the token of the
    next page (None on the last)."""
    page: list[Event] = []
    for event in events:
        if query.keeps(event):
            if len(page) == query.per_page:
                last = page[-1]
                return page, page_token((last[0], last[1]))
            page.append(event)
    return page, None
