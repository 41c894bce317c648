"""The recall report (PDF): the lot, why and how severe, who opened and closed it, the whole
frozen scope with what each record returned or destroyed, and every party told with when she
acknowledged. Chinese text is set in reportlab's CID font (common.pdf); a consumer appears by
number only. The same recall gives the same bytes."""

from io import BytesIO

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from common.dates import BUSINESS_TIME_ZONE
from common.pdf import CHINESE_FONT, TEXT, TITLE

from .choices import DownstreamKind
from .models import Recall, RecallReach
from .selectors.recalls import notices_of, party_label, recall_summary, with_dispositions

HEADING = TEXT.clone("heading", fontSize=11.5, leading=16, spaceBefore=6, spaceAfter=2)
CELL = TEXT.clone("cell", fontSize=8, leading=10)


def report_filename(recall: Recall) -> str:
    return f"recall-{recall.pk}-{recall.lot.lot_code}.pdf"


def _when(moment) -> str:
    if moment is None:
        return "—"
    return timezone.localtime(moment, BUSINESS_TIME_ZONE).strftime("%Y-%m-%d %H:%M")


def _escape(text) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(text) -> Paragraph:
    """A table cell that wraps within its column (names and notes can be long)."""
    return Paragraph(_escape(text), CELL)


def _table(header: list[str], rows: list[list], widths: list[float]) -> Table:
    table = Table([header, *rows], repeatRows=1, colWidths=[w * mm for w in widths])
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


def recall_report_pdf(recall: Recall) -> bytes:
    lot = recall.lot
    summary = recall_summary(recall)
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=_("Recall report %(recall)s") % {"recall": recall},
        invariant=1,
    )
    closed = (
        _("Closed %(at)s by %(who)s") % {"at": _when(recall.closed_at), "who": recall.closed_by}
        if recall.closed_at
        else _("Still open")
    )
    lines = [
        _("Lot %(lot)s · %(product)s · %(farm)s · %(cooperative)s · harvested %(date)s")
        % {
            "lot": lot.lot_code,
            "product": lot.product,
            "farm": lot.farm.name,
            "cooperative": lot.farm.cooperative.name,
            "date": lot.harvest_date.isoformat(),
        },
        _("Severity: %(severity)s") % {"severity": recall.get_severity_display()},
        _("Reason: %(reason)s") % {"reason": recall.reason},
        _("Opened %(at)s by %(who)s") % {"at": _when(recall.opened_at), "who": recall.opened_by},
        closed,
    ]
    if recall.close_note:
        lines.append(_("Closing note: %(note)s") % {"note": recall.close_note})
    if recall.false_alarm:
        lines.append(_("False alarm: the lot's hold was released."))
    elif recall.closed_at:
        lines.append(_("The lot stays withdrawn from sale."))
    lines.append(
        _(
            "Parties told: %(reached)s; acknowledged: %(acknowledged)s. Returned %(returned)s kg, "
            "destroyed %(destroyed)s kg."
        )
        % {
            "reached": summary.reached,
            "acknowledged": summary.acknowledged,
            "returned": summary.returned_kg,
            "destroyed": summary.destroyed_kg,
        }
    )
    story: list = [Paragraph(_escape(_("Recall report %(recall)s") % {"recall": recall}), TITLE)]
    story += [Paragraph(_escape(line), TEXT) for line in lines]

    story.append(Paragraph(_escape(_("Scope by kind")), HEADING))
    story.append(
        _table(
            [_("Kind"), _("Records"), _("kg"), _("Returned (kg)"), _("Destroyed (kg)")],
            [
                [
                    k.label,
                    str(k.records),
                    str(k.quantity_kg),
                    str(k.returned_kg),
                    str(k.destroyed_kg),
                ]
                for k in summary.by_kind
            ],
            [70, 25, 35, 35, 35],
        )
    )

    story.append(Paragraph(_escape(_("Scope")), HEADING))
    scope_rows = [
        [
            str(position),
            str(DownstreamKind(row.kind).label),
            _cell(row.reference),
            _cell(row.holder or "—"),
            _when(row.at),
            str(row.quantity_kg),
            str(row.returned_kg),  # type: ignore[attr-defined]  # with_dispositions' annotation
            str(row.destroyed_kg),  # type: ignore[attr-defined]
            f"{DownstreamKind(row.parent_kind).label} {row.parent_id}" if row.parent_kind else "",
        ]
        for position, row in enumerate(with_dispositions(recall.scope.all()), start=1)
    ]
    story.append(
        _table(
            [
                "#",
                _("Kind"),
                _("Reference"),
                _("Holder"),
                _("Reached at"),
                _("kg"),
                _("Returned (kg)"),
                _("Destroyed (kg)"),
                _("Came from"),
            ],
            scope_rows,
            [10, 32, 40, 50, 28, 20, 22, 22, 44],
        )
    )

    story.append(Paragraph(_escape(_("Parties told")), HEADING))
    reach_labels = dict(RecallReach.choices)
    notice_rows = [
        [
            party_label(notice.user),
            ", ".join(str(reach_labels.get(r, r)) for r in notice.reached_as),
            _when(notice.notified_at),
            _when(notice.acknowledged_at),
            _cell(notice.acknowledgement_note),
        ]
        for notice in notices_of(recall)
    ]
    story.append(
        _table(
            [_("Party"), _("Reached as"), _("Told at"), _("Acknowledged at"), _("Note")],
            notice_rows,
            [55, 50, 32, 32, 100],
        )
    )
    story.append(Spacer(1, 4 * mm))
    document.build(story)
    return buffer.getvalue()
