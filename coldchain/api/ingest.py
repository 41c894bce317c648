"""Loggers post readings: `POST /api/coldchain/readings/` with
`Authorization: Device <device_id>:<secret>` (ReadingIngestApi says what it takes and answers;
the rules are in coldchain/ingest.py).

The body is read raw rather than through DRF's parsers: the batch goes from bytes to rows in
one call (orjson), and nothing is parsed twice.
"""

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from common.request_limits import MULTIPART_OVERHEAD_BYTES, request_body_limit

from .. import batch_files, ingest
from ..exceptions import BatchTooLarge, MalformedBatch
from .authentication import HEADER_FORMAT, DeviceAuthentication, IsDataLogger

JSON_TYPES = frozenset({"application/json"})
CSV_TYPES = frozenset({"text/csv", "application/csv"})
MULTIPART_TYPE = "multipart/form-data"
TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no", ""})


class RejectedReadingSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    field = serializers.CharField()
    message = serializers.CharField()


class IngestResultSerializer(serializers.Serializer):
    """The answer's shape, for the API documentation (IngestResult.as_dict renders it)."""

    received = serializers.IntegerField()
    stored = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    late = serializers.IntegerField(
        help_text="Of the stored, how many arrived late (after their watch ended, or later "
        "than the loss-of-signal time after they were recorded)."
    )
    rejected = RejectedReadingSerializer(many=True)


def _ingest_body_limit() -> int:
    """The request body cap (common/request_limits.py) of a batch: its own limit, 4 MB for
    10,000 readings, and a form's overhead. 10,000 readings with every field and a device id
    measured 1.9 MB as compact JSON, 2.6 MB indented by 2, 3.1 MB indented by 4, and 0.7 MB as
    CSV."""
    return ingest.max_batch_bytes() + MULTIPART_OVERHEAD_BYTES


@request_body_limit(_ingest_body_limit)
class ReadingIngestApi(APIView):
    """A logger posts a batch of up to 10,000 readings, as JSON or as its CSV file.

    JSON: `{"readings": [{"recorded_at": "2026-11-28T04:00:00+00:00", "temperature_c": 3.2,
    "humidity_pct": 92.5, "latitude": 39.9, "longitude": 116.4, "battery_pct": 88}],
    "accept_partial": false}`; only `recorded_at` (ISO 8601 with its UTC offset) and
    `temperature_c` are required, `device_id` may name the logger itself, other fields are
    ignored. CSV: a `text/csv` body (charset=gbk if so) or the form field `file`, with a header
    row naming the same columns, and `?accept_partial=true`.

    201 when something new was stored, 200 when not (a re-sent batch). A batch with a bad row
    is refused whole (400, each bad field with its row's index) unless accept_partial: then
    the good rows are stored and the bad ones listed in `rejected`. A reading of a watch that
    ended longer ago than COLDCHAIN_LATE_READING_HOURS is such a bad row; one stored after its
    watch ended, or long after it was recorded, is counted in `late`. 401: unknown logger, wrong
    secret, switched-off logger; 403: a row for another logger; 413: over the batch limit;
    415: another content type.
    """

    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsDataLogger]
    parser_classes = [MultiPartParser]  # only for a CSV file upload; JSON and CSV are read raw
    renderer_classes = [JSONRenderer]

    def permission_denied(self, request, message=None, code=None):
        if not request.successful_authenticator:
            raise exceptions.NotAuthenticated(
                _("Readings are posted by loggers: send %(format)s.") % {"format": HEADER_FORMAT}
            )
        super().permission_denied(request, message=message, code=code)

    @extend_schema(
        operation_id="coldchain_readings_ingest",
        request={
            "application/json": OpenApiTypes.OBJECT,
            "text/csv": OpenApiTypes.STR,
            "multipart/form-data": OpenApiTypes.OBJECT,
        },
        parameters=[OpenApiParameter("accept_partial", bool, required=False)],
        responses={201: IngestResultSerializer, 200: IngestResultSerializer},
    )
    def post(self, request):
        logger = request.auth
        media_type, params = _media_type(request.content_type)
        if media_type in JSON_TYPES:
            batch = batch_files.parse_json_batch(_body(request))
            rows, is_text = batch.rows, False
            accept_partial = batch.accept_partial
            if accept_partial is None:
                accept_partial = _accept_partial(request)
        elif media_type in CSV_TYPES:
            rows = batch_files.parse_csv_batch(_body(request), encoding=params.get("charset"))
            is_text, accept_partial = True, _accept_partial(request)
        elif media_type == MULTIPART_TYPE:
            upload = request.FILES.get("file")
            if upload is None:
                raise MalformedBatch(
                    _("Attach the logger's CSV file in the form field “file”."), field="file"
                )
            _check_size(upload.size)
            rows = batch_files.parse_csv_batch(upload.read(), encoding=upload.charset)
            is_text, accept_partial = True, _accept_partial(request)
        elif media_type:
            raise exceptions.UnsupportedMediaType(
                media_type,
                detail=_(
                    "Send readings as JSON (application/json), as CSV (text/csv) or as a CSV file in the multipart field “file”; not “%(type)s”."
                )
                % {"type": media_type},
            )
        else:
            raise exceptions.UnsupportedMediaType(
                media_type,
                detail=_(
                    "Say what the body is: Content-Type application/json, text/csv or multipart/form-data."
                ),
            )
        result = ingest.ingest_readings(
            logger=logger, rows=rows, accept_partial=accept_partial, is_text=is_text
        )
        answer = status.HTTP_201_CREATED if result.stored else status.HTTP_200_OK
        return Response(result.as_dict(), status=answer)


def _media_type(content_type: str) -> tuple[str, dict[str, str]]:
    media_type, *parameters = (content_type or "").split(";")
    params = {}
    for parameter in parameters:
        name, _equals, value = parameter.partition("=")
        params[name.strip().lower()] = value.strip().strip('"')
    return media_type.strip().lower(), params


def _body(request) -> bytes:
    """The raw body, at most max_batch_bytes() of it (more is refused before it is read)."""
    limit = ingest.max_batch_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    _check_size(declared)
    stream = request.stream
    if stream is None:
        return b""
    body = stream.read(limit + 1)
    _check_size(len(body))
    return body


def _check_size(size: int) -> None:
    limit = ingest.max_batch_bytes()
    if size > limit:
        raise BatchTooLarge(
            _(
                "The body has %(size)d bytes; a batch holds at most %(count)d readings and %(limit)d bytes. Send it in parts."
            )
            % {"size": size, "count": limit // ingest.MAX_BYTES_PER_READING, "limit": limit}
        )


def _accept_partial(request) -> bool:
    value = request.query_params.get("accept_partial")
    if value is None and request.content_type.startswith(MULTIPART_TYPE):
        value = request.data.get("accept_partial")
    value = (value or "").strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise MalformedBatch(_("Must be true or false."), field="accept_partial")


urlpatterns = [
    path("readings/", ReadingIngestApi.as_view(), name="coldchain-readings-ingest"),
]


def register(router) -> None:
    """Ingest has no viewsets: one view, listed in `urlpatterns`."""
