"""The photo a courier took of an order left at the door, shown the same from the pages and
the API.

The door has already found the order through proof_photos_visible_to (404 for anyone else);
the file itself is private (common/private_files.py)."""

from django.http.response import HttpResponseBase

from common.private_files import private_file_response

from .models import DeliveryOrder


def proof_photo_response(order: DeliveryOrder) -> HttpResponseBase:
    """The JPEG (the photo service re-encodes every upload), shown in the browser."""
    return private_file_response(
        order.proof_photo,
        filename=f"{order.number}.jpg",
        content_type="image/jpeg",
        as_attachment=False,
    )
