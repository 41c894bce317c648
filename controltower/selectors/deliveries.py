"""Consumer orders delivered in a period, and which of them kept their promise.

The rule is delivery's (`delivery.selectors.warehouse.on_time_rate`: delivered by
`promised_by`), written here as one aggregate so that the tower counts every warehouse, or
every day, in one query; tests/controltower checks that both agree.
"""

from datetime import datetime

from django.db.models import Count, F, Q, QuerySet

from delivery.models import DeliveryOrder, DeliveryOrderStatus, FrontWarehouse

ON_TIME = Q(delivered_at__lte=F("promised_by"))


def delivered_between(
    warehouses: QuerySet[FrontWarehouse] | list[FrontWarehouse], start: datetime, end: datetime
) -> QuerySet[DeliveryOrder]:
    return DeliveryOrder.objects.filter(
        warehouse__in=warehouses,
        status=DeliveryOrderStatus.DELIVERED,
        delivered_at__gte=start,
        delivered_at__lt=end,
    )


def with_on_time_counts(grouped: QuerySet) -> QuerySet:
    """`grouped` (a .values(…) queryset of delivered orders) with `delivered` and `on_time`."""
    return grouped.annotate(delivered=Count("id"), on_time=Count("id", filter=ON_TIME))
