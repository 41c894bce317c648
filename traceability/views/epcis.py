"""Downloads: a lot's or a shipment's EPCIS 2.0 events as one EPCISDocument
(application/ld+json), linked from the lot's journey page and the shipment's page. Scoped as
the journey is: a lot one may not open is not found; a shipment gives the events of the lots
it carried that one may open, and is not found when there are none."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.urls import path

from accounts.permissions import get_visible_or_404
from common.bulk import cyclic_gc_paused

from ..epcis.documents import MEDIA_TYPE, epcis_document, rendered
from ..epcis.journey import events_of_lot
from ..selectors.epcis import shipment_code, shipment_events_visible
from ..selectors.journey import lots_with_journey_visible_to


def _download(document: dict, filename: str) -> HttpResponse:
    with cyclic_gc_paused():
        response = HttpResponse(rendered(document), content_type=MEDIA_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def lot_epcis(request, pk: int):
    lot = get_visible_or_404(lots_with_journey_visible_to(request.user), pk=pk)
    return _download(epcis_document(events_of_lot(lot)), f"epcis-{lot.lot_code}.jsonld")


@login_required
def shipment_epcis(request, pk: int):
    events = shipment_events_visible(lots_with_journey_visible_to(request.user), pk)
    if events is None:
        raise Http404
    return _download(epcis_document(events), f"epcis-{shipment_code(pk)}.jsonld")


urlpatterns = [
    path("trace/lots/<int:pk>/epcis.jsonld", lot_epcis, name="lot_epcis"),
    path("trace/shipments/<int:pk>/epcis.jsonld", shipment_epcis, name="shipment_epcis"),
]
