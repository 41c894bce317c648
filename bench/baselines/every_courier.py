"""bench/dispatch's baseline: dispatch's candidate search with no index to walk."""

from django.db import connection

from delivery import ranking

EVERY_COURIER_SQL = """
SELECT c.id, ST_Distance(c.position, here.point) AS distance_m, busy.load, c.capacity
  FROM delivery_courier c
 CROSS JOIN (SELECT ST_SetSRID(ST_MakePoint(%(longitude)s, %(latitude)s), 4326)::geography
               AS point) here
 CROSS JOIN LATERAL (
        SELECT count(*) AS load
          FROM delivery_deliverytask t
          JOIN delivery_deliveryorder o ON o.task_id = t.id
         WHERE t.courier_id = c.id
           AND t.status = ANY(%(active_tasks)s)
           AND o.status = ANY(%(carried_orders)s)
       ) busy
 WHERE c.is_on_shift
   AND ST_Distance(c.position, here.point) <= %(radius_m)s
   AND busy.load + %(orders)s <= c.capacity
   AND NOT EXISTS (
        SELECT 1 FROM delivery_taskoffer p WHERE p.courier_id = c.id AND p.status = %(pending)s)
   AND NOT EXISTS (
        SELECT 1 FROM delivery_taskoffer r
         WHERE r.courier_id = c.id AND r.task_id = %(task_id)s
           AND COALESCE(r.answered_at, r.expires_at) >= %(since)s)
 ORDER BY distance_m
 LIMIT %(limit)s
"""


class EveryCourier(ranking.NearestCouriers):
    """The brute-force baseline: every courier's distance to the warehouse (ST_Distance, no
    index: the planner has nothing to walk but the table), the same filters, nearest first."""

    def candidates(self, **kwargs) -> list[ranking.Candidate]:
        with connection.cursor() as cursor:
            cursor.execute(EVERY_COURIER_SQL, self.params(**kwargs))
            return [ranking.Candidate(*row) for row in cursor.fetchall()]
