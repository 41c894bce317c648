"""Finding what a trace code names."""

from ..codes import normalise
from ..exceptions import UnknownTraceCode
from ..models import TraceCode


def trace_code_named(typed: str) -> TraceCode:
    """The code someone scanned or typed (with its lot, product, farm and co-operative), or
    UnknownTraceCode: the same answer for a code that never existed and a revoked one."""
    code = normalise(typed)
    found = (
        TraceCode.objects.select_related(
            "lot__product", "lot__farm__cooperative", "stock_lot", "delivery_order"
        )
        .filter(code=code, revoked_at__isnull=True)
        .first()
        if code
        else None
    )
    if found is None:
        raise UnknownTraceCode()
    return found
