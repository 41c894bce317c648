"""A front warehouse's packing label for one stock lot: product, lot, warehouse, best-before
and the QR of the lot's public trace page. 100 × 70 mm, the size of the common thermal label
printers; Chinese through reportlab's built-in CID font (common.pdf), the QR drawn as vector
squares from segno's matrix so it stays sharp at any printer's resolution."""

from io import BytesIO

import segno
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from common.dates import BUSINESS_TIME_ZONE
from common.pdf import CHINESE_FONT

from .codes import grouped

LABEL_WIDTH = 100 * mm
LABEL_HEIGHT = 70 * mm
QR_SIZE = 40 * mm
MARGIN = 4 * mm


def _draw_qr(canvas: Canvas, url: str, *, x: float, y: float, size: float) -> None:
    qr = segno.make_qr(url, error="m")
    matrix = [list(row) for row in qr.matrix]
    border = 2
    modules = len(matrix) + 2 * border
    cell = size / modules
    canvas.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(
                    x + (c + border) * cell,
                    y + size - (r + border + 1) * cell,
                    cell,
                    cell,
                    stroke=0,
                    fill=1,
                )


def packing_label_pdf(*, stock_lot, code: str, url: str) -> bytes:
    """One label, one page; the same stock lot gives the same bytes."""
    out = BytesIO()
    canvas = Canvas(out, pagesize=(LABEL_WIDTH, LABEL_HEIGHT), invariant=1)
    lot = stock_lot.lot
    product = stock_lot.product
    canvas.setTitle(f"{product.name_zh} {lot.lot_code}")
    _draw_qr(canvas, url, x=LABEL_WIDTH - QR_SIZE - MARGIN, y=MARGIN + 6 * mm, size=QR_SIZE)
    canvas.setFont("Courier-Bold", 8)
    canvas.drawCentredString(LABEL_WIDTH - MARGIN - QR_SIZE / 2, MARGIN + 2 * mm, grouped(code))
    text_x = MARGIN
    top = LABEL_HEIGHT - MARGIN - 6 * mm
    canvas.setFont(CHINESE_FONT, 14)
    canvas.drawString(text_x, top, product.name_zh)
    canvas.setFont(CHINESE_FONT, 8)
    canvas.drawString(text_x, top - 5 * mm, product.name_en)
    expires = stock_lot.expires_at.astimezone(BUSINESS_TIME_ZONE)
    rows = (
        ("批次 Lot", lot.lot_code),
        ("产地 Origin", lot.farm.cooperative.region or lot.farm.cooperative.province),
        ("采收 Harvest", lot.harvest_date.isoformat()),
        ("最佳食用 Best before", f"{expires:%Y-%m-%d}"),
        ("仓 Warehouse", stock_lot.warehouse.name),
    )
    y = top - 12 * mm
    for heading, value in rows:
        canvas.setFont(CHINESE_FONT, 6)
        canvas.drawString(text_x, y, heading)
        canvas.setFont(CHINESE_FONT, 8)
        canvas.drawString(text_x, y - 3.4 * mm, str(value)[:22])
        y -= 7.2 * mm
        if y < MARGIN:
            break
    canvas.setFont(CHINESE_FONT, 6)
    canvas.drawString(text_x, MARGIN, "扫码追溯 Scan to trace")
    canvas.showPage()
    canvas.save()
    return out.getvalue()
