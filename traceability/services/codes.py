"""Issuing trace codes for labels."""

from django.db import IntegrityError, transaction

from ..choices import TraceCodeKind
from ..codes import new_code
from ..models import TraceCode


def issue_trace_code(*, lot, kind: TraceCodeKind, stock_lot=None, delivery_order=None) -> TraceCode:
    """A new code for a label. A warehouse packing label has one code per stock lot and a
    consumer order one per lot it carries: asking again returns the same code."""
    if kind == TraceCodeKind.STOCK_LABEL:
        existing = TraceCode.objects.filter(kind=kind, stock_lot=stock_lot).first()
    elif kind == TraceCodeKind.CONSUMER_ORDER:
        existing = TraceCode.objects.filter(
            kind=kind, delivery_order=delivery_order, lot=lot
        ).first()
    else:
        existing = None
    if existing is not None:
        return existing
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return TraceCode.objects.create(
                    code=new_code(),
                    lot=lot,
                    kind=kind,
                    stock_lot=stock_lot,
                    delivery_order=delivery_order,
                )
        except IntegrityError:
            # 60 random bits: a clash means a concurrent request made the same label's code.
            existing = TraceCode.objects.filter(
                kind=kind, stock_lot=stock_lot, delivery_order=delivery_order, lot=lot
            ).first()
            if existing is not None and kind != TraceCodeKind.CERTIFICATE:
                return existing
    raise RuntimeError("could not issue a unique trace code")
