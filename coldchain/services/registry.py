"""The cold chain's registry: sites, cold stores, refrigerated vehicles, data loggers (with
their secrets) and the periods a logger watches a shipment or a store. Each write is one
transaction; the registry is a controller's (services.access)."""

import hashlib
import hmac
import secrets
from datetime import datetime
from decimal import Decimal

from django.contrib.gis.geos import Point
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from farms.models import Cooperative
from marketplace.markets.models import Market

from ..exceptions import ColdChainError, LoggerAlreadyAssigned
from ..models import ColdStore, DataLogger, LoggerAssignment, Shipment, Site, Vehicle
from .access import require_registry_keeper

# The optional excursion settings of MonitoredRange a store or a shipment may be given.
PATIENCE_FIELDS = (
    "excursion_delay_minutes",
    "recovery_minutes",
    "recovery_margin_c",
    "signal_timeout_minutes",
)


def check_patience(patience: dict) -> None:
    unknown = set(patience) - set(PATIENCE_FIELDS)
    if unknown:
        raise TypeError(f"unexpected arguments: {', '.join(sorted(unknown))}")


def hash_logger_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def logger_secret_matches(logger: DataLogger, secret: str) -> bool:
    return hmac.compare_digest(logger.secret_hash, hash_logger_secret(secret))


@transaction.atomic
def register_logger(*, device_id: str, label: str = "", secret: str | None = None):
    """A new logger and its secret. The secret is shown once, here: only its hash is kept.
    Returns (logger, secret)."""
    secret = secret or secrets.token_urlsafe(24)
    if DataLogger.objects.filter(device_id=device_id).exists():
        raise ColdChainError(
            _("A logger with this device id is already registered."), field="device_id"
        )
    logger = DataLogger(device_id=device_id, label=label, secret_hash=hash_logger_secret(secret))
    logger.full_clean()
    logger.save()
    return logger, secret


def assign_logger(
    *,
    logger: DataLogger,
    subject: Shipment | ColdStore,
    starts_at: datetime,
    ends_at: datetime | None = None,
) -> LoggerAssignment:
    """The logger watches `subject` from `starts_at` (until `ends_at`, or open). Its earlier
    open assignment, if any, ends where this one starts; an overlap with a closed period is
    refused (the database's exclusion constraint has the last word)."""
    if ends_at is not None and ends_at <= starts_at:
        raise ColdChainError(_("The end must come after the start."), field="ends_at")
    try:
        with transaction.atomic():
            LoggerAssignment.objects.filter(
                logger=logger, ends_at__isnull=True, starts_at__lt=starts_at
            ).update(ends_at=starts_at)
            return LoggerAssignment.objects.create(
                logger=logger,
                shipment=subject if isinstance(subject, Shipment) else None,
                store=subject if isinstance(subject, ColdStore) else None,
                starts_at=starts_at,
                ends_at=ends_at,
            )
    except IntegrityError as error:
        if "logger_assignment_no_overlap" in str(error):
            raise LoggerAlreadyAssigned(field="logger") from error
        raise


def _save_new(instance: models.Model, *, unique_field: str, taken: str):
    """full_clean then save; the database's unique constraint decides whether the value is
    taken (so a concurrent insert reads as taken too)."""
    instance.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        if unique_field not in str(error):
            raise
        raise ColdChainError(taken, field=unique_field) from error
    return instance


def create_site(
    *,
    by: User,
    name: str,
    kind: str,
    longitude: float,
    latitude: float,
    cooperative: Cooperative | None = None,
    market: Market | None = None,
) -> Site:
    """A loading or unloading place (controllers only). It belongs to at most one co-operative
    or market, whose people then see the shipments that start or end there."""
    require_registry_keeper(by)
    if cooperative is not None and market is not None:
        raise ColdChainError(
            _("A site belongs to a co-operative or to a market, not both."), field="market"
        )
    if not (-180 <= longitude <= 180):
        raise ColdChainError(_("Longitude must be between -180 and 180."), field="longitude")
    if not (-90 <= latitude <= 90):
        raise ColdChainError(_("Latitude must be between -90 and 90."), field="latitude")
    site = Site(
        name=(name or "").strip(),
        kind=kind,
        location=Point(float(longitude), float(latitude), srid=4326),
        cooperative=cooperative,
        market=market,
    )
    return _save_new(site, unique_field="name", taken=_("A site with this name exists already."))


def create_cold_store(
    *,
    by: User,
    code: str,
    name: str,
    site: Site,
    min_temperature_c: Decimal,
    max_temperature_c: Decimal,
    capacity_kg: Decimal | None = None,
    **patience,
) -> ColdStore:
    """A cold room at a site with the range it keeps (controllers only). `patience` takes
    the optional excursion settings of MonitoredRange (excursion_delay_minutes, ...)."""
    require_registry_keeper(by)
    check_patience(patience)
    if capacity_kg is not None and capacity_kg <= 0:
        raise ColdChainError(_("The capacity must be more than zero."), field="capacity_kg")
    minimum, maximum = Decimal(str(min_temperature_c)), Decimal(str(max_temperature_c))
    if minimum >= maximum:
        raise ColdChainError(
            _("The highest temperature must be above the lowest."), field="max_temperature_c"
        )
    store = ColdStore(
        code=code,
        name=(name or "").strip(),
        site=site,
        min_temperature_c=minimum,
        max_temperature_c=maximum,
        capacity_kg=capacity_kg,
        **{key: value for key, value in patience.items() if value is not None},
    )
    with transaction.atomic():
        return _save_new(
            store, unique_field="code", taken=_("A cold store with this code exists already.")
        )


def create_vehicle(
    *,
    by: User,
    plate: str,
    name: str = "",
    carrier: str = "",
    cooperative: Cooperative | None = None,
) -> Vehicle:
    """A refrigerated vehicle (controllers only); a co-operative's own, or a hired carrier's."""
    require_registry_keeper(by)
    vehicle = Vehicle(
        plate=(plate or "").strip().upper(),
        name=(name or "").strip(),
        carrier=(carrier or "").strip(),
        cooperative=cooperative,
    )
    return _save_new(
        vehicle, unique_field="plate", taken=_("A vehicle with this plate exists already.")
    )
