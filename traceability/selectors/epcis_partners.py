"""Partner systems as people and partners see them: which lots a partner may report on, whose
keys a person may manage, a partner's capture jobs, and its events as steps of a lot's journey.

A partner limited to a co-operative reports on that co-operative's lots; one limited to a
market on the lots that market traded or checked in at its gate; one limited to neither (only
the platform admin issues those) on any lot. A person sending a document while signed in sends
it as their own "signed-in" partner system (services.epcis_partners.signed_in_partner).
"""

import re

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from accounts.permissions import is_admin
from farms.models import HarvestLot
from farms.selectors import cooperative_managed_by, lots_admitted_at
from marketplace.markets.selectors.lots import lots_traded_at

from ..models import CapturedEvent, CaptureJob, PartnerSystem
from ..trail import JourneyStep

PUBLIC_PLACE = re.compile(r"^(urn:epc:id:sgln:[0-9.]+|https://[^/]+/414/[0-9]{13}(/254/[^/]+)?)$")
SIGNED_IN_PREFIX = "signed-in"  # key_prefix of a person's own partner system (it has no key)

# CBV 2.0 business steps as people read them; any other is shown as sent.
# Translation context "EPCIS business step" ("Received" as a step, not a date), written out in
# each call: makemessages reads only literal contexts.
BIZ_STEPS = {
    "commissioning": pgettext_lazy("EPCIS business step", "Commissioned"),
    "receiving": pgettext_lazy("EPCIS business step", "Received"),
    "inspecting": pgettext_lazy("EPCIS business step", "Inspected"),
    "shipping": pgettext_lazy("EPCIS business step", "Shipped"),
    "departing": pgettext_lazy("EPCIS business step", "Departed"),
    "arriving": pgettext_lazy("EPCIS business step", "Arrived"),
    "accepting": pgettext_lazy("EPCIS business step", "Accepted"),
    "packing": pgettext_lazy("EPCIS business step", "Packed"),
    "unpacking": pgettext_lazy("EPCIS business step", "Unpacked"),
    "storing": pgettext_lazy("EPCIS business step", "Stored"),
    "loading": pgettext_lazy("EPCIS business step", "Loaded"),
    "unloading": pgettext_lazy("EPCIS business step", "Unloaded"),
    "retail_selling": pgettext_lazy("EPCIS business step", "Sold at retail"),
    "stocking": pgettext_lazy("EPCIS business step", "Put in stock"),
    "picking": pgettext_lazy("EPCIS business step", "Picked"),
    "transporting": pgettext_lazy("EPCIS business step", "In transport"),
    "transforming": pgettext_lazy("EPCIS business step", "Transformed"),
    "repackaging": pgettext_lazy("EPCIS business step", "Repacked"),
    "sensor_reporting": pgettext_lazy("EPCIS business step", "Temperature reported"),
    "holding": pgettext_lazy("EPCIS business step", "Held"),
    "destroying": pgettext_lazy("EPCIS business step", "Destroyed"),
}


def lots_partner_may_report_on(partner: PartnerSystem) -> QuerySet[HarvestLot]:
    lots = HarvestLot.objects.all()
    if partner.cooperative_id is not None:
        lots = lots.filter(farm__cooperative_id=partner.cooperative_id)
    if partner.market_id is not None:
        markets = [partner.market_id]
        lots = lots.filter(Q(pk__in=lots_traded_at(markets)) | Q(pk__in=lots_admitted_at(markets)))
    return lots


def partners_visible_to(user) -> QuerySet[PartnerSystem]:
    """The keys a person manages: all for the platform admin, his co-operative's for a
    co-operative manager, none for anyone else. Signed-in senders' own systems are left out
    (they have no key)."""
    partners = PartnerSystem.objects.exclude(key_prefix=SIGNED_IN_PREFIX).select_related(
        "cooperative", "market", "created_by"
    )
    if is_admin(user):
        return partners
    cooperative = cooperative_managed_by(user)
    if cooperative is None:
        return partners.none()
    return partners.filter(cooperative=cooperative)


def capture_job_of(*, partner: PartnerSystem, capture_id: str) -> CaptureJob | None:
    """The partner's own job, or None (another partner's job is simply not found)."""
    if not capture_id.isdigit():
        return None
    return CaptureJob.objects.filter(partner=partner, pk=int(capture_id)).first()


def capture_jobs_of(*, partner: PartnerSystem, before_id: int | None = None):
    """The partner's jobs, newest first (by id: a job's id grows with its arrival)."""
    jobs = CaptureJob.objects.filter(partner=partner).order_by("-id")
    return jobs if before_id is None else jobs.filter(pk__lt=before_id)


def last_jobs_of(partner_ids: list[int]) -> dict[int, CaptureJob]:
    """Each partner's newest job (for the key list)."""
    found: dict[int, CaptureJob] = {}
    for job in (
        CaptureJob.objects.filter(partner_id__in=partner_ids)
        .order_by("partner_id", "-id")
        .distinct("partner_id")
    ):
        found[job.partner_id] = job
    return found


# --- Reported events as journey steps ---------------------------------------------------------


def cbv_word(value: str) -> str:
    """`shipping` of "shipping", "urn:epcglobal:cbv:bizstep:shipping" or
    "https://ref.gs1.org/cbv/BizStep-shipping" (the same for a disposition's "Disp-")."""
    word = value.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    for prefix in ("BizStep-", "Disp-"):
        word = word.removeprefix(prefix)
    return word


def biz_step_label(biz_step: str) -> str:
    word = cbv_word(biz_step)
    if word in BIZ_STEPS:
        return str(BIZ_STEPS[word])
    return word.replace("_", " ") if word else _("Event")


def _temperature_line(event: dict) -> str:
    """The lowest and highest temperature the event's sensor reports give, if any."""
    values: list[float] = []
    for element in event.get("sensorElementList") or []:
        for report in element.get("sensorReport") or []:
            if not str(report.get("type", "")).endswith("Temperature"):
                continue
            values.extend(
                float(report[name])
                for name in ("value", "minValue", "maxValue", "meanValue")
                if isinstance(report.get(name), int | float)
            )
    if not values:
        return ""
    return _("%(min)s–%(max)s °C reported") % {"min": min(values), "max": max(values)}


def place_of(event: CapturedEvent, *, public: bool) -> str:
    """Where it happened: the business location's identifier as sent. The public page shows
    it only when it names a business location in a GS1 form (an SGLN, a Digital Link of a GLN)
    or a place on the platform's own host; anything else a partner typed could name a person.
    The read point, parties, addresses and extensions are never shown."""
    location = event.biz_location
    if not public or PUBLIC_PLACE.match(location) or location.startswith(settings.SITE_URL + "/"):
        return location
    return ""


def _type_label(event: CapturedEvent) -> str:
    if event.event_type == "TransactionEvent":
        return _("Trade recorded")
    return event.event_type


def captured_steps_of(lot: HarvestLot, *, public: bool = False) -> list[JourneyStep]:
    """Each event partners reported about the lot, "reported by <partner>", public; the
    public page's places are only business locations (`place_of`)."""
    steps = []
    for event in CapturedEvent.objects.filter(lot=lot).select_related("partner"):
        label = biz_step_label(event.biz_step) if event.biz_step else _type_label(event)
        disposition = cbv_word(str(event.event.get("disposition", ""))).replace("_", " ")
        parts = (event.event_type, disposition, _temperature_line(event.event))
        detail = " · ".join(part for part in parts if part)
        steps.append(
            JourneyStep(
                at=event.event_time,
                kind="partner_event",
                title=_("%(step)s · reported by %(partner)s")
                % {"step": label, "partner": event.partner.name},
                detail=detail,
                place=place_of(event, public=public),
                public=True,
            )
        )
    return steps
