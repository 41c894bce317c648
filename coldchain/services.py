"""Every write the cold chain allows that is not ingest or excursion judgement (those live in
coldchain/ingest.py and coldchain/monitoring.py): loggers and their assignments, shipments
and their handovers, alert acknowledgement. Each function is one transaction."""

import hashlib
import hmac
import secrets
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .exceptions import AlertAlreadyAcknowledged, ColdChainError, LoggerAlreadyAssigned
from .models import Alert, ColdStore, DataLogger, LoggerAssignment, Shipment
from .realtime import push_alert


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


@transaction.atomic
def acknowledge_alert(*, alert: Alert, by: User, note: str) -> Alert:
    """A controller has seen the alert and says what is being done; said once."""
    note = (note or "").strip()
    if not note:
        raise ColdChainError(_("Say what is being done about it."), field="note")
    alert = (
        Alert.objects.select_for_update()
        .select_related("shipment__origin", "shipment__destination", "store__site", "excursion")
        .get(pk=alert.pk)
    )
    if alert.acknowledged_at is not None:
        raise AlertAlreadyAcknowledged()
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = by
    alert.acknowledgement_note = note[:2000]
    alert.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledgement_note"])
    push_alert(alert, event="alert.updated")
    return alert
