"""The handover's logger record as a download, the same from the shipment page and the API.

The door has already found the shipment through shipments_visible_to (404 for anyone else);
the file itself is private (common/private_files.py)."""

from django.http.response import HttpResponseBase

from common.private_files import private_file_response

from .models import Handover

RECORD_CONTENT_TYPE = "text/csv; charset=utf-8"


def handover_record_response(handover: Handover) -> HttpResponseBase:
    """The CSV, named after the shipment and the kind (its stored name is random)."""
    return private_file_response(
        handover.record_file,
        filename=f"{handover.shipment.code}-{handover.kind}.csv",
        content_type=RECORD_CONTENT_TYPE,
    )
