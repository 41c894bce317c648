"""Alerts as the API lists them and the screens receive them live."""

from django.db.models import Q

from ..models import Alert

# Not yet both acknowledged and resolved: what a screen still shows.
OPEN_ALERT = Q(acknowledged_at__isnull=True) | Q(resolved_at__isnull=True)


def is_open(alert: Alert) -> bool:
    """OPEN_ALERT for an alert in hand."""
    return alert.acknowledged_at is None or alert.resolved_at is None


def alert_payload(alert: Alert) -> dict:
    """One alert as the API lists it and the screens receive it live (the same shape)."""
    subject = alert.subject
    excursion = alert.excursion
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "kind_label": str(alert.get_kind_display()),
        "severity": alert.severity,
        "severity_label": str(alert.get_severity_display()),
        "subject": "shipment" if alert.shipment_id else "store",
        "subject_id": subject.pk,
        "subject_code": subject.code,
        "raised_at": alert.raised_at.isoformat() if alert.raised_at else None,
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "acknowledgement_note": alert.acknowledgement_note,
        # Late readings no longer show the excursion: kept as confirmed, for a person to judge.
        "disputed": excursion is not None and excursion.refuted_at is not None,
        "excursion": None
        if excursion is None
        else {
            "kind": excursion.kind,
            "kind_label": str(excursion.get_kind_display()),
            "limit_c": excursion.limit_c,
            "started_at": excursion.started_at.isoformat(),
            "ended_at": excursion.ended_at.isoformat() if excursion.ended_at else None,
            "peak_c": excursion.peak_c,
            "degree_minutes": round(excursion.degree_minutes, 1),
            "refuted_at": excursion.refuted_at.isoformat() if excursion.refuted_at else None,
        },
    }
