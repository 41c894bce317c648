"""A history row for every move of an order's, a task's and an offer's status.

Rows that existed before are given the history their timestamps tell (who acted is known
only for placing an order: its consumer), so every order shows its steps.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# gettext_noop'd in delivery.services.transitions: the pages translate it when they show it.
BACKFILLED = "Recorded before the history was kept."

ORDER_HISTORY = """
INSERT INTO delivery_deliveryorderevent (order_id, from_status, to_status, actor_id, reason, at)
SELECT order_id, from_status, to_status, actor_id, %(reason)s, at FROM (
    SELECT id AS order_id, '' AS from_status, 'placed' AS to_status, consumer_id AS actor_id,
           placed_at AS at, 0 AS step
      FROM delivery_deliveryorder
    UNION ALL
    SELECT id, 'placed', 'packed', NULL, packed_at, 1
      FROM delivery_deliveryorder WHERE packed_at IS NOT NULL
    UNION ALL
    SELECT id, 'packed', 'assigned', NULL, assigned_at, 2
      FROM delivery_deliveryorder WHERE assigned_at IS NOT NULL
    UNION ALL
    SELECT id, 'assigned', 'picked_up', NULL, picked_up_at, 3
      FROM delivery_deliveryorder WHERE picked_up_at IS NOT NULL
    UNION ALL
    SELECT id, 'picked_up', 'delivered', NULL, delivered_at, 4
      FROM delivery_deliveryorder WHERE delivered_at IS NOT NULL AND status = 'delivered'
    UNION ALL
    SELECT id, CASE WHEN packed_at IS NULL THEN 'placed' ELSE 'packed' END, 'cancelled', NULL,
           COALESCE(cancelled_at, updated_at), 5
      FROM delivery_deliveryorder WHERE status = 'cancelled'
) AS steps
ORDER BY order_id, step
"""

TASK_HISTORY = """
INSERT INTO delivery_deliverytaskevent (task_id, from_status, to_status, actor_id, reason, at)
SELECT task_id, from_status, to_status, actor_id, %(reason)s, at FROM (
    SELECT id AS task_id, '' AS from_status, 'offering' AS to_status, NULL::bigint AS actor_id,
           created_at AS at, 0 AS step
      FROM delivery_deliverytask
    UNION ALL
    SELECT t.id, 'offering', 'assigned', c.user_id, t.accepted_at, 1
      FROM delivery_deliverytask t JOIN delivery_courier c ON c.id = t.courier_id
     WHERE t.accepted_at IS NOT NULL
    UNION ALL
    SELECT t.id, 'assigned', 'picked_up', c.user_id, t.picked_up_at, 2
      FROM delivery_deliverytask t JOIN delivery_courier c ON c.id = t.courier_id
     WHERE t.picked_up_at IS NOT NULL
    UNION ALL
    SELECT id, 'picked_up', 'done', NULL, completed_at, 3
      FROM delivery_deliverytask WHERE completed_at IS NOT NULL AND status = 'done'
    UNION ALL
    SELECT id, 'offering', status, NULL, updated_at, 4
      FROM delivery_deliverytask WHERE status IN ('unassigned', 'cancelled')
) AS steps
ORDER BY task_id, step
"""

OFFER_HISTORY = """
INSERT INTO delivery_taskofferevent (offer_id, from_status, to_status, actor_id, reason, at)
SELECT offer_id, from_status, to_status, actor_id, %(reason)s, at FROM (
    SELECT id AS offer_id, '' AS from_status, 'pending' AS to_status, NULL::bigint AS actor_id,
           offered_at AS at, 0 AS step
      FROM delivery_taskoffer
    UNION ALL
    SELECT o.id, 'pending', o.status,
           CASE WHEN o.status IN ('accepted', 'declined') THEN c.user_id END,
           COALESCE(o.answered_at, o.expires_at), 1
      FROM delivery_taskoffer o JOIN delivery_courier c ON c.id = o.courier_id
     WHERE o.status <> 'pending'
) AS steps
ORDER BY offer_id, step
"""


def backfill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for sql in (ORDER_HISTORY, TASK_HISTORY, OFFER_HISTORY):
            cursor.execute(sql, {"reason": BACKFILLED})


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0005_payment_entry_in_settlement"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DeliveryOrderEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reason", models.CharField(blank=True, max_length=300, verbose_name="why")),
                ("at", models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="at")),
                (
                    "from_status",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("placed", "Placed"),
                            ("packed", "Packed"),
                            ("assigned", "Courier on the way to the warehouse"),
                            ("picked_up", "On its way"),
                            ("delivered", "Delivered"),
                            ("cancelled", "Cancelled"),
                        ],
                        max_length=24,
                        verbose_name="from",
                    ),
                ),
                (
                    "to_status",
                    models.CharField(
                        choices=[
                            ("placed", "Placed"),
                            ("packed", "Packed"),
                            ("assigned", "Courier on the way to the warehouse"),
                            ("picked_up", "On its way"),
                            ("delivered", "Delivered"),
                            ("cancelled", "Cancelled"),
                        ],
                        max_length=24,
                        verbose_name="to",
                    ),
                ),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty when the platform acted (an expiry, a sweep, dispatch).",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "order",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="delivery.deliveryorder",
                        verbose_name="order",
                    ),
                ),
            ],
            options={
                "verbose_name": "order event",
                "verbose_name_plural": "order events",
                "ordering": ["at", "id"],
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="DeliveryTaskEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reason", models.CharField(blank=True, max_length=300, verbose_name="why")),
                ("at", models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="at")),
                (
                    "from_status",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("offering", "Looking for a courier"),
                            ("unassigned", "No courier yet"),
                            ("assigned", "Assigned"),
                            ("picked_up", "Picked up"),
                            ("done", "Done"),
                            ("cancelled", "Cancelled"),
                        ],
                        max_length=24,
                        verbose_name="from",
                    ),
                ),
                (
                    "to_status",
                    models.CharField(
                        choices=[
                            ("offering", "Looking for a courier"),
                            ("unassigned", "No courier yet"),
                            ("assigned", "Assigned"),
                            ("picked_up", "Picked up"),
                            ("done", "Done"),
                            ("cancelled", "Cancelled"),
                        ],
                        max_length=24,
                        verbose_name="to",
                    ),
                ),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty when the platform acted (an expiry, a sweep, dispatch).",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "task",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="delivery.deliverytask",
                        verbose_name="task",
                    ),
                ),
            ],
            options={
                "verbose_name": "task event",
                "verbose_name_plural": "task events",
                "ordering": ["at", "id"],
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="TaskOfferEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reason", models.CharField(blank=True, max_length=300, verbose_name="why")),
                ("at", models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="at")),
                (
                    "from_status",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("pending", "Waiting for an answer"),
                            ("accepted", "Accepted"),
                            ("declined", "Declined"),
                            ("expired", "Expired"),
                            ("withdrawn", "Withdrawn"),
                        ],
                        max_length=24,
                        verbose_name="from",
                    ),
                ),
                (
                    "to_status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting for an answer"),
                            ("accepted", "Accepted"),
                            ("declined", "Declined"),
                            ("expired", "Expired"),
                            ("withdrawn", "Withdrawn"),
                        ],
                        max_length=24,
                        verbose_name="to",
                    ),
                ),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty when the platform acted (an expiry, a sweep, dispatch).",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "offer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="delivery.taskoffer",
                        verbose_name="offer",
                    ),
                ),
            ],
            options={
                "verbose_name": "offer event",
                "verbose_name_plural": "offer events",
                "ordering": ["at", "id"],
                "abstract": False,
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
