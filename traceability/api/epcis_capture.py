"""EPCIS 2.0 capture interface (GS1's REST binding, rest/openapi.yaml: /capture and
/capture/{captureID}), at the site's root like the rest of /epcis/.

- `POST /epcis/capture` with an EPCISDocument or EPCISQueryDocument (`application/json` or
  `application/ld+json`), signed with a partner key that may send events
  (`Authorization: Bearer fcp_…`), or by a signed-in co-operative manager or platform admin.
  A document GS1's schema refuses: 400 `application/problem+json`
  (`epcisException:ValidationException`) listing every error, nothing stored. Otherwise 202
  with `Location: /epcis/capture/<captureID>` and the job: finished at once (processing is
  synchronous), `success` true with every event stored, or false with every error and none
  stored. More than MAX_EVENTS events: 413 (OPTIONS /epcis/capture says the limit in
  `GS1-EPCIS-Capture-Limit`). Malformed JSON: 400; another content type: 415; `GS1-Capture-Error-Behaviour` other
  than `rollback`: 400 (a document is accepted whole or not at all).
- `GET /epcis/capture?perPage=&nextPageToken=`: the caller's jobs, newest first.
- `GET /epcis/capture/<captureID>`: the job (captureID, createdAt, finishedAt, running,
  success, captureErrorBehaviour, errors; eventCount and newEventCount besides). Another
  partner's job is not found.

Each error is an RFC 7807 problem with `eventIndex` (in the document's event list; null for
the document) and `field` (a JSON pointer inside the event). Left out of /api/schema/: the
contract of these paths is GS1's OpenAPI document.
"""

import json

from django.urls import path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.authentication import SessionAuthentication, TokenAuthentication
from common.api.throttles import AnonymousRateThrottle, UserRateThrottle

from ..selectors.epcis_partners import capture_job_of, capture_jobs_of
from ..services.epcis_capture import (
    MAX_EVENTS,
    PROBLEM_TYPE,
    DocumentRefused,
    DocumentTooLarge,
    capture_document,
)
from ..services.epcis_partners import signed_in_partner
from .epcis_auth import PartnerKeyAuthentication, partner_of

CONTENT_TYPES = ("application/json", "application/ld+json")
GS1_HEADERS = {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0"}
PROBLEM_JSON = "application/problem+json"
MAX_PER_PAGE = 100


class PartnerRateThrottle(UserRateThrottle):
    """Per partner system for a partner's call: its `request.user` has no pk, so the user
    throttle alone would count every partner in one bucket."""

    def get_cache_key(self, request, view):
        partner = partner_of(request)
        if partner is None:
            return super().get_cache_key(request, view)
        return self.cache_format % {"scope": self.scope, "ident": f"partner-{partner.pk}"}


THROTTLES = [AnonymousRateThrottle, PartnerRateThrottle]


def _problem(status: int, kind: str, title: str, errors: list | None = None) -> Response:
    body: dict = {"type": kind, "title": title, "status": status}
    if errors is not None:
        body["errors"] = errors
    return Response(body, status=status, content_type=PROBLEM_JSON, headers=GS1_HEADERS)


def _forbidden() -> Response:
    return _problem(
        403,
        "epcisException:SecurityException",
        _("This key or account may not send events."),
    )


def job_document(job) -> dict:
    return {
        "captureID": str(job.pk),
        "createdAt": job.received_at.isoformat(),
        "finishedAt": job.finished_at.isoformat() if job.finished_at else None,
        "running": job.finished_at is None,
        "success": bool(job.success),
        "captureErrorBehaviour": "rollback",
        "errors": job.errors,
        "eventCount": job.event_count,
        "newEventCount": job.new_event_count,
    }


def _sender(request):
    """The partner system the caller sends as, or None when it may not send."""
    partner = partner_of(request)
    if partner is not None:
        return partner if partner.may_capture else None
    return signed_in_partner(request.user)


class CaptureView(APIView):
    authentication_classes = [PartnerKeyAuthentication, TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = THROTTLES
    parser_classes: list = []  # the body is read here, so a malformed one gets its own answer

    @extend_schema(exclude=True)
    def options(self, request, *args, **kwargs):
        """Discovery: what the capture interface accepts (GS1's 204CaptureEndpointDiscovery)."""
        headers = {
            **GS1_HEADERS,
            "Allow": "OPTIONS, GET, POST",
            "GS1-EPCIS-Capture-Limit": str(MAX_EVENTS),
            "GS1-Capture-Error-Behaviour": "rollback",
        }
        return Response(status=204, headers=headers)

    @extend_schema(exclude=True)
    def post(self, request):
        partner = _sender(request)
        if partner is None:
            return _forbidden()
        behaviour = request.headers.get("GS1-Capture-Error-Behaviour", "rollback")
        if behaviour != "rollback":
            return _problem(
                400,
                PROBLEM_TYPE,
                _("Only GS1-Capture-Error-Behaviour: rollback is supported."),
            )
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type not in CONTENT_TYPES:
            return _problem(
                415,
                "epcisException:UnsupportedMediaTypeException",
                _("Send the document as application/json or application/ld+json."),
            )
        try:
            document = json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as error:
            title = _("The body is not JSON: %(error)s") % {"error": error}
            return _problem(400, PROBLEM_TYPE, title, [_error(title)])
        try:
            job = capture_document(partner=partner, document=document)
        except DocumentTooLarge as too_large:
            return _problem(
                413, "epcisException:CaptureLimitExceededException", str(too_large.message)
            )
        except DocumentRefused as refused:
            return _problem(
                400,
                PROBLEM_TYPE,
                str(refused.message),
                [problem.as_problem() for problem in refused.problems],
            )
        location = reverse("traceability:epcis_capture_job", args=[job.pk])
        return Response(
            job_document(job), status=202, headers={**GS1_HEADERS, "Location": location}
        )


def _error(title: str) -> dict:
    return {"type": PROBLEM_TYPE, "title": title, "status": 400, "eventIndex": None, "field": ""}


class CaptureJobListView(CaptureView):
    """GET /epcis/capture: the caller's jobs, newest first, `perPage` at a time (at most
    MAX_PER_PAGE); `nextPageToken` from the `Link: <…>; rel="next"` header gives the next."""

    @extend_schema(exclude=True)
    def get(self, request):
        partner = _sender(request)
        if partner is None:
            return _forbidden()
        per_page, token = (
            request.query_params.get("perPage", "30"),
            request.query_params.get("nextPageToken", ""),
        )
        if (
            not per_page.isdigit()
            or not 1 <= int(per_page) <= MAX_PER_PAGE
            or not (token == "" or token.isdigit())
        ):
            title = _("perPage is 1 to %(max)s; nextPageToken comes from the Link header.") % {
                "max": MAX_PER_PAGE
            }
            return _problem(400, "epcisException:QueryParameterException", title)
        jobs = capture_jobs_of(partner=partner, before_id=int(token) if token else None)
        page = list(jobs[: int(per_page) + 1])
        headers = dict(GS1_HEADERS)
        if len(page) > int(per_page):
            page = page[: int(per_page)]
            query = f"perPage={per_page}&nextPageToken={page[-1].pk}"
            headers["Link"] = f'<{reverse("traceability:epcis_capture")}?{query}>; rel="next"'
        return Response([job_document(job) for job in page], headers=headers)


class CaptureJobView(APIView):
    authentication_classes = [PartnerKeyAuthentication, TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = THROTTLES

    @extend_schema(exclude=True)
    def get(self, request, capture_id: str):
        partner = _sender(request)
        job = capture_job_of(partner=partner, capture_id=capture_id) if partner else None
        if job is None:
            return _problem(
                404, "epcisException:NoSuchResourceException", _("No such capture job.")
            )
        return Response(job_document(job), headers=GS1_HEADERS)


urlpatterns = [
    path("epcis/capture", CaptureJobListView.as_view(), name="epcis_capture"),
    path("epcis/capture/<str:capture_id>", CaptureJobView.as_view(), name="epcis_capture_job"),
]
