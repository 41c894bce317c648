"""Pages: one lot's journey (/trace/lots/<id>/, a timeline and a map), and the two doors the
delivery pages link to: a consumer order's trace link per lot, a warehouse's packing label
(PDF with the QR) per stock lot.

Who may open a journey is `selectors.journey` (another's lot is simply not found). The trace
link and the label give the label's code on first use (issue_trace_code returns the same code
after), so following them twice changes nothing.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from accounts.choices import Role
from accounts.permissions import get_visible_or_404, is_admin
from delivery.selectors.lots import picks_of_order, stock_lot_with_lot
from delivery.selectors.shop import orders_visible_to
from delivery.selectors.warehouse import works_at

from ..choices import TraceCodeKind
from ..codes import grouped, trace_path, trace_url
from ..packing_labels import packing_label_pdf
from ..selectors.journey import journey_of, lots_with_journey_visible_to, may_see_copy_warnings
from ..selectors.public import scans_of_lot, suspected_copies_of
from ..services.codes import issue_trace_code


def _map_config(steps) -> dict:
    return {
        "tilesUrl": settings.MAP_TILES_URL,
        "attribution": settings.MAP_TILES_ATTRIBUTION,
        "points": [
            {"lon": s.point[0], "lat": s.point[1], "title": s.title, "kind": s.kind}
            for s in steps
            if s.point is not None
        ],
    }


@login_required
def lot_journey(request, pk: int):
    lot = get_visible_or_404(lots_with_journey_visible_to(request.user), pk=pk)
    steps = journey_of(lot, viewer=request.user)
    context = {
        "lot": lot,
        "steps": steps,
        "map_config": _map_config(steps),
        "map_tiles_url": settings.MAP_TILES_URL,
        "map_tiles_attribution": settings.MAP_TILES_ATTRIBUTION,
        "scans": scans_of_lot(lot.pk),
        "copies": list(suspected_copies_of(lot.pk)[:20])
        if may_see_copy_warnings(request.user, lot)
        else None,
        "codes": [
            {"code": grouped(c.code), "kind": c.get_kind_display(), "url": _url_of(c)}
            for c in lot.trace_codes.filter(revoked_at__isnull=True).order_by("created_at")[:20]
        ],
    }
    return render(request, "traceability/journey/lot.html", context)


def _url_of(code) -> str:
    lot = code.lot
    return trace_path(code=code.code, gtin=lot.product.gtin or "", lot_code=lot.lot_code)


@login_required
def order_lot_trace(request, order_pk: int, lot_pk: int):
    """The trace page of one lot of a consumer's order (her order page links here)."""
    order = get_visible_or_404(orders_visible_to(request.user), pk=order_pk)
    pick = next((p for p in picks_of_order(order.pk) if p.stock_lot.lot_id == lot_pk), None)
    if pick is None:
        raise Http404
    lot = pick.stock_lot.lot
    code = issue_trace_code(lot=lot, kind=TraceCodeKind.CONSUMER_ORDER, delivery_order=order)
    return redirect(trace_path(code=code.code, gtin=lot.product.gtin or "", lot_code=lot.lot_code))


@login_required
def stock_label(request, pk: int):
    """The packing label (PDF, 100 × 70 mm) of a stock lot: for its warehouse's manager."""
    if not (is_admin(request.user) or request.user.role == Role.WAREHOUSE_MANAGER):
        raise PermissionDenied
    stock = stock_lot_with_lot(pk)
    if stock is None or not works_at(request.user, stock.warehouse):
        raise Http404
    lot = stock.lot
    code = issue_trace_code(lot=lot, kind=TraceCodeKind.STOCK_LABEL, stock_lot=stock)
    url = trace_url(code=code.code, gtin=lot.product.gtin or "", lot_code=lot.lot_code)
    response = HttpResponse(
        packing_label_pdf(stock_lot=stock, code=code.code, url=url),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = f'inline; filename="label-{lot.lot_code}.pdf"'
    return response


urlpatterns = [
    path("trace/lots/<int:pk>/", lot_journey, name="lot_journey"),
    path(
        "trace/orders/<int:order_pk>/lots/<int:lot_pk>/",
        order_lot_trace,
        name="order_lot_trace",
    ),
    path("trace/stock/<int:pk>/label.pdf", stock_label, name="stock_label"),
]
