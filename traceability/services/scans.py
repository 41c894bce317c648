"""Counting the views of public trace pages, and spotting copied labels.

A scan keeps no personal data: the address only as a keyed hash (HMAC-SHA256 with the site's
secret, so it cannot be looked up in a table of all addresses), the user agent only as its
class, a location only when the page sends one with the person's consent, rounded to 0.1°.
"""

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from common.geo import metres_between

from ..exceptions import InvalidScanLocation, ScanAlreadyLocated, UnknownScan
from ..models import ScanAgent, TraceCode, TraceScan

# One label seen twice so far apart so quickly that no vehicle could have carried it between
# the two: faster than a high-speed train (300 km/h). Locations are rounded to 0.1° (up to
# ~11 km), so two scans nearer than COPY_MIN_KM are never compared: rounding alone could make
# a walk look fast.
COPY_SPEED_KMH = 300.0
COPY_MIN_KM = 30.0
COPY_WINDOW = timedelta(hours=24)
LOCATION_DECIMALS = 1
SCAN_TOKEN_MAX_AGE = timedelta(hours=1)
_SALT = "traceability.scan"

_BOTS = re.compile(r"bot|crawl|spider|slurp|curl|wget|python|httpx|headless", re.I)
_TABLETS = re.compile(r"ipad|tablet|kindle|silk|(android(?!.*mobile))", re.I)
_PHONES = re.compile(r"mobile|iphone|ipod|android|micromessenger|harmonyos", re.I)


def agent_of(user_agent: str) -> str:
    """The class of device a user agent names; the agent itself is not kept."""
    text = user_agent or ""
    if not text:
        return ScanAgent.OTHER
    if _BOTS.search(text):
        return ScanAgent.BOT
    if _TABLETS.search(text):
        return ScanAgent.TABLET
    if _PHONES.search(text):
        return ScanAgent.PHONE
    if re.search(r"windows|macintosh|x11|linux|cros", text, re.I):
        return ScanAgent.DESKTOP
    return ScanAgent.OTHER


def address_hash(address: str) -> str:
    return salted_hmac(
        _SALT, address or "", secret=settings.SECRET_KEY, algorithm="sha256"
    ).hexdigest()


def record_scan(
    *,
    lot,
    code: TraceCode | None,
    address: str,
    user_agent: str,
    at: datetime | None = None,
) -> TraceScan:
    """One view of a lot's public page (through one of its codes, or a Digital Link path
    without a serial)."""
    with transaction.atomic():
        return TraceScan.objects.create(
            lot=lot,
            code=code,
            scanned_at=at or timezone.now(),
            ip_hash=address_hash(address),
            agent=agent_of(user_agent),
        )


def scan_token(scan: TraceScan) -> str:
    """What the page sends back with its location: the scan's id, signed and short-lived."""
    return signing.TimestampSigner(salt=_SALT).sign(str(scan.pk))


def _scan_id(token: str) -> int:
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(token or "", max_age=SCAN_TOKEN_MAX_AGE)
    except signing.BadSignature as exc:
        raise UnknownScan() from exc
    return int(value)


def _coordinate(value, *, low: float, high: float, field: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidScanLocation(field=field) from exc
    if not low <= number <= high or number != number:  # NaN
        raise InvalidScanLocation(field=field)
    return round(number, LOCATION_DECIMALS)


def locate_scan(*, token: str, longitude, latitude, at: datetime | None = None) -> TraceScan:
    """Attach the rough location the page sent (with consent) to its scan, once, and compare
    it with the code's other located scans of the day before and after: an implied speed
    above COPY_SPEED_KMH over at least COPY_MIN_KM marks the scan as a suspected copy."""
    lon = _coordinate(longitude, low=-180, high=180, field="longitude")
    lat = _coordinate(latitude, low=-90, high=90, field="latitude")
    scan_id = _scan_id(token)
    with transaction.atomic():
        scan = TraceScan.objects.select_for_update().filter(pk=scan_id).first()
        if scan is None:
            raise UnknownScan()
        if scan.location is not None:
            raise ScanAlreadyLocated()
        scan.location = Point(lon, lat, srid=4326)
        scan.located_at = at or timezone.now()
        fastest = _fastest_move(scan, here=(lon, lat)) if scan.code_id else None
        if fastest is not None:
            other, speed = fastest
            scan.copy_suspected = True
            scan.implied_speed_kmh = round(speed, 1)
            scan.previous = other
        scan.save(
            update_fields=[
                "location", "located_at", "copy_suspected", "implied_speed_kmh", "previous"
            ]
        )  # fmt: skip
        return scan


def _fastest_move(scan: TraceScan, *, here: tuple[float, float]) -> tuple[TraceScan, float] | None:
    """The other located scan of the same code that implies the fastest move, if faster than
    a label can travel."""
    others = TraceScan.objects.filter(
        code_id=scan.code_id,
        location__isnull=False,
        scanned_at__gte=scan.scanned_at - COPY_WINDOW,
        scanned_at__lte=scan.scanned_at + COPY_WINDOW,
    ).exclude(pk=scan.pk)
    fastest: tuple[TraceScan, float] | None = None
    for other in others:
        if other.location is None:
            continue
        km = metres_between(here, (other.location.x, other.location.y)) / 1000
        if km < COPY_MIN_KM:
            continue
        hours = max(abs((scan.scanned_at - other.scanned_at).total_seconds()) / 3600, 1 / 60)
        speed = km / hours
        if speed > COPY_SPEED_KMH and (fastest is None or speed > fastest[1]):
            fastest = (other, speed)
    return fastest
