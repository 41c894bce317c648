"""The regulator's daily digest as a PDF (A4): the day's counters, each market's trades and
each warehouse's orders, the trends' values that day, and the open recalls and excursions.

Chinese text is set in reportlab's CID font (common.pdf); the same figures give the same
bytes (reportlab's invariant mode), so a kept digest downloads identically every time.
"""

from io import BytesIO

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from common.pdf import CHINESE_FONT, TEXT, TITLE

HEADING = TEXT.clone("tower-heading", fontSize=11.5, leading=16, spaceBefore=8, spaceAfter=3)
CELL = TEXT.clone("tower-cell", fontSize=8, leading=10)
NONE = "—"


def digest_filename(figures: dict) -> str:
    return f"tower-digest-{figures['day']}.pdf"


def _escape(text) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _or_none(value, suffix: str = "") -> str:
    return NONE if value is None else f"{value}{suffix}"


def _table(header: list[str], rows: list[list], widths: list[float]) -> Table:
    cells = [[Paragraph(_escape(text), CELL) for text in row] for row in [header, *rows]]
    table = Table(cells, repeatRows=1, colWidths=[w * mm for w in widths])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), CHINESE_FONT, 8),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                ("LINEBELOW", (0, -1), (-1, -1), 0.3, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _section(story: list, heading: str, header: list[str], rows: list[list], widths) -> None:
    story.append(Paragraph(_escape(heading), HEADING))
    if rows:
        story.append(_table(header, rows, widths))
    else:
        story.append(Paragraph(_escape(_("None.")), TEXT))


def digest_pdf(figures: dict) -> bytes:
    counters, trends = figures["counters"], figures["trends"]
    buffer = BytesIO()
    title = _("Control tower daily digest %(day)s") % {"day": figures["day"]}
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=title,
        invariant=1,
    )
    story: list = [
        Paragraph(_escape(title), TITLE),
        Paragraph(
            _escape(_("Area: %(area)s") % {"area": figures["area"] or _("whole country")}), TEXT
        ),
        Paragraph(
            _escape(_("Compiled %(at)s (Asia/Shanghai)") % {"at": figures["compiled_at"]}), TEXT
        ),
        Spacer(1, 3 * mm),
    ]
    _section(
        story,
        _("The day's counters"),
        [_("Figure"), _("Value")],
        [
            [_("Trades"), counters["trades"]],
            [_("Tonnage (t)"), counters["tonnes"]],
            [_("Consumer orders"), counters["orders"]],
            [_("Orders delivered"), counters["delivered"]],
            [_("On-time rate"), _or_none(counters["on_time_percent"], " %")],
            [_("Open excursions"), counters["open_excursions"]],
            [_("Open recalls"), counters["open_recalls"]],
            [_("Lots held at gates"), counters["lots_held_at_gates"]],
        ],
        [90, 60],
    )
    _section(
        story,
        _("Trends on the day"),
        [_("Trend"), _("Value")],
        [
            [_("Volume (kg)"), trends["volume_kg"]],
            [_("Price index (30-day start = 100)"), _or_none(trends["price_index"])],
            [_("Loss rate (7 days)"), _or_none(trends["loss_rate_percent"], " %")],
            [_("On-time rate"), _or_none(trends["on_time_percent"], " %")],
            [_("Excursion minutes"), trends["excursion_minutes"]],
        ],
        [90, 60],
    )
    _section(
        story,
        _("Markets"),
        [_("Market"), _("Trades"), _("Tonnage (t)")],
        [[m["name"], m["trades"], m["tonnes"]] for m in figures["markets"]],
        [100, 35, 45],
    )
    _section(
        story,
        _("Front warehouses"),
        [_("Warehouse"), _("Orders"), _("Delivered"), _("On-time rate")],
        [
            [w["name"], w["orders"], w["delivered"], _or_none(w["on_time_percent"], " %")]
            for w in figures["warehouses"]
        ],
        [90, 30, 30, 30],
    )
    _section(
        story,
        _("Open recalls"),
        [_("Lot"), _("Product"), _("Severity"), _("Opened"), _("Reason")],
        [
            [r["lot"], r["product"], r["severity"], r["opened_at"], r["reason"]]
            for r in figures["open_recalls"]
        ],
        [32, 30, 22, 30, 68],
    )
    _section(
        story,
        _("Open excursions"),
        [_("Shipment or store"), _("Kind"), _("Since"), _("Peak (°C)")],
        [
            [e["subject"], e["kind"], e["started_at"], e["peak_c"]]
            for e in figures["open_excursions"]
        ],
        [60, 45, 40, 35],
    )
    document.build(story)
    return buffer.getvalue()
