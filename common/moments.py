"""Moments read by the tens of thousands (a recall's scope, a lot's trail).

Django's psycopg 3 backend loads every timestamptz with psycopg's pure-Python loader (Django
ticket #36960, psycopg #1273): about 4 µs a value, most of a large read's Python time. A
query that reads many moments selects `EpochMicroseconds(field)` instead, an integer psycopg
loads in C, and turns it back with `moment_from_epoch_us`: the same aware UTC datetime Django
would have returned, to the microsecond, at a quarter of the cost.
"""

from datetime import UTC, datetime, timedelta

import psycopg
from django.db.models import BigIntegerField, Func

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EpochMicroseconds(Func):
    """A timestamptz as whole microseconds since 1970-01-01 UTC (bigint; NULL stays NULL)."""

    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
    output_field = BigIntegerField()


def moment_from_epoch_us(microseconds: int | None) -> datetime | None:
    """The aware UTC datetime of an `EpochMicroseconds` value (None for NULL)."""
    if microseconds is None:
        return None
    return EPOCH + timedelta(microseconds=microseconds)


def load_moments_in_c(cursor) -> None:
    """Let a raw psycopg cursor load timestamptz with psycopg's own C loader instead of
    Django's (see above): the same aware datetime in the session's time zone (UTC, as Django
    sets it), without the cost; for reads of tens of thousands of moments on a cursor of their
    own (`connection.cursor().cursor`)."""
    oid = psycopg.adapters.types["timestamptz"].oid
    for form in (psycopg.pq.Format.TEXT, psycopg.pq.Format.BINARY):
        loader = psycopg.adapters.get_loader(oid, form)
        if loader is not None:
            cursor.adapters.register_loader(oid, loader)
