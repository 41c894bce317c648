"""Reads about loggers and what they watch."""

from django.db.models import Q, QuerySet

from ..models import LoggerAssignment


def assignments_covering(logger_id: int, start, end) -> QuerySet[LoggerAssignment]:
    """The logger's assignments whose period meets [start, end]."""
    return LoggerAssignment.objects.filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=start), logger_id=logger_id, starts_at__lte=end
    ).select_related("shipment", "store")
