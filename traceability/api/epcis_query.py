"""The EPCIS 2.0 query interface, a subset of GS1's REST binding at the same paths and with
the same parameter names (rest/openapi.yaml in GS1's standard):

- `GET /epcis/events`: an EPCISQueryDocument of the events the caller may see that the
  query keeps (traceability.epcis.query lists the parameters), `perPage` at a time, ordered
  by (eventTime, eventID); a `Link: <…>; rel="next"` header while there are more.
- `GET /epcis/events/{eventID}` (the ID URL-encoded): an EPCISDocument with that one event.
- `GET /epcis/epcs/{epc}/events`: the events naming that EPC or EPC class (a lot's LGTIN or
  our lot URI), with the same parameters.

Callers: a partner system's key (`Authorization: Bearer fcp_…`, with may_query) sees its
co-operative's or market's lots; a signed-in person (session or token) the lots whose journey
she may open. Anonymous: 401. An event the caller may not see is not found (404). Malformed
times, unknown parameters and the like: 400 listing every problem, by parameter.

Not in the API schema (/api/schema/): GS1's OpenAPI is this interface's contract.
"""

from urllib.parse import urlencode

from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from ..epcis.documents import MEDIA_TYPE, epcis_document, query_document, rendered
from ..epcis.query import PARAMETERS, EventQuery, QueryError, parse_query
from ..selectors.epcis import event_named, lots_with_events_visible_to, query_events
from .epcis_auth import PartnerKeyAuthentication, partner_of

VERSION_HEADERS = {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0"}


class JsonLdRenderer(JSONRenderer):
    media_type = MEDIA_TYPE
    format = "jsonld"


def epcis_response(document: dict, *, link: str | None = None) -> HttpResponse:
    response = HttpResponse(rendered(document), content_type=MEDIA_TYPE)
    for name, value in VERSION_HEADERS.items():
        response[name] = value
    if link:
        response["Link"] = f'<{link}>; rel="next"'
    return response


@extend_schema(exclude=True)
class EpcisView(APIView):
    # The partner's key first: a caller without credentials is told to bring a Bearer key.
    authentication_classes = [
        PartnerKeyAuthentication,
        *api_settings.DEFAULT_AUTHENTICATION_CLASSES,
    ]
    renderer_classes = [JSONRenderer, JsonLdRenderer]

    def visible_lots(self, request):
        partner = partner_of(request)
        if partner is not None and not partner.may_query:
            raise exceptions.PermissionDenied(_("This partner key may not query events."))
        return lots_with_events_visible_to(request.user, partner)

    def parsed(self, request, *, allowed=PARAMETERS) -> EventQuery:
        try:
            return parse_query(request.query_params, allowed=allowed)
        except QueryError as error:
            raise exceptions.ValidationError(error.errors) from None

    def page(self, request, query: EventQuery) -> HttpResponse:
        events, token = query_events(self.visible_lots(request), query)
        link = None
        if token is not None:
            params = [(k, v) for k, v in request.query_params.lists() if k != "nextPageToken"]
            flat = [(k, v) for k, values in params for v in values] + [("nextPageToken", token)]
            link = request.build_absolute_uri(request.path) + "?" + urlencode(flat)
        return epcis_response(query_document(events), link=link)


class EventsView(EpcisView):
    def get(self, request):
        return self.page(request, self.parsed(request))


class EventView(EpcisView):
    def get(self, request, event_id: str):
        self.parsed(request, allowed=())
        event = event_named(self.visible_lots(request), event_id)
        if event is None:
            raise exceptions.NotFound(_("No such event."))
        return epcis_response(epcis_document([event]))


class EpcEventsView(EpcisView):
    def get(self, request, epc: str):
        query = self.parsed(request, allowed=[p for p in PARAMETERS if p != "MATCH_anyEPC"])
        query.epcs_or_classes = [epc]
        return self.page(request, query)


urlpatterns = [
    path("epcis/events", EventsView.as_view(), name="epcis_events"),
    path("epcis/events/<path:event_id>", EventView.as_view(), name="epcis_event"),
    path("epcis/epcs/<path:epc>/events", EpcEventsView.as_view(), name="epcis_epc_events"),
]
