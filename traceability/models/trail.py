"""A lot's trail: one narrow row for every record downstream of a harvest lot, so "what is
downstream of this lot" is one index range scan instead of a walk over six apps' tables.

The rows are written by PostgreSQL triggers on the tables that own the records (migration
0006_lot_trail, which also filled it from the rows already there): every insert, every update
of a column the trail shows and every delete of a listing, a marketplace order line or its
order, a counter trade, a lot on a shipment or its shipment, a stock lot, a stock receipt, a
consumer's pick or its line or order rewrites that record's row in the same transaction. So
the apps below traceability keep writing through their own services, unaware of it, and no
write path (a service, the admin, a bulk update, raw SQL) can leave the trail behind.

The trail keeps ids, never names: who holds a record (a trader, a warehouse, a site) is looked
up when it is read, so renaming a business rewrites nothing. It keeps every record, even those a
trace leaves out (an order that took no goods, a cancelled consumer order): what leaves them out
is the reader's rule (traceability.selectors.downstream), not the trigger's.
"""

from django.db import models

from ..choices import TrailStep


class LotTrailEntry(models.Model):
    """One record downstream of a lot, as the triggers keep it (read-only for Python)."""

    pk = models.CompositePrimaryKey("step", "source_id")
    lot_id = models.BigIntegerField()
    step = models.PositiveSmallIntegerField(choices=TrailStep)
    # The row of the owning table: a listing, an order line, a trade, a ShipmentLot, a stock
    # lot, a stock receipt, a DeliveryOrderPick.
    source_id = models.BigIntegerField()
    # The record a trace shows: the same, but a shipment's (for a ShipmentLot), the stock
    # lot's (for a receipt) and the consumer order line's (for a pick).
    record_id = models.BigIntegerField()
    at = models.DateTimeField()  # when the lot reached it
    quantity_kg = models.DecimalField(max_digits=12, decimal_places=3)
    remaining_kg = models.DecimalField(max_digits=12, decimal_places=3, null=True)
    status = models.CharField(max_length=24, blank=True)  # the order's or shipment's status
    reference = models.CharField(max_length=120, blank=True)  # a shipment's code, an order's
    # number ("#<id>" for a listing or a marketplace order)
    # Whom it is with: the seller, the buyer, the shipment's planner, the consumer (a user).
    user_id = models.BigIntegerField(null=True)
    # Who holds it, for the kinds held by a business: the buying trader (a trade), the
    # destination site (a shipment), the warehouse (a stock lot).
    holder_id = models.BigIntegerField(null=True)
    market_id = models.BigIntegerField(null=True)  # a trade's market
    order_id = models.BigIntegerField(null=True)  # a marketplace order line's or shipment's
    # The record it came from: a line's listing, a shipment's trade, a receipt's trade or
    # order line, a pick's stock lot.
    parent_step = models.PositiveSmallIntegerField(choices=TrailStep, null=True)
    parent_id = models.BigIntegerField(null=True)

    class Meta:
        db_table = "traceability_lottrail"
        indexes = [
            # A forward trace reads a lot's rows in the order it lists them, from the index
            # alone (it carries every column), as a hundred thousand rows in tens of ms.
            models.Index(
                fields=["lot_id", "step", "at", "record_id", "source_id"],
                include=[
                    "quantity_kg",
                    "remaining_kg",
                    "status",
                    "reference",
                    "user_id",
                    "holder_id",
                    "market_id",
                    "order_id",
                    "parent_step",
                    "parent_id",
                ],
                name="lot_trail_walk",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_step_display()} {self.record_id} of lot {self.lot_id}"
