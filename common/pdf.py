"""PDF documents with Chinese text: receipts and statements.

reportlab's built-in CID font (STSong-Light, Adobe-GB1) renders Chinese without shipping a
font file: the PDF viewer supplies the glyphs. Documents are built with `invariant` on, so
the same content gives the same bytes (statements can be compared across reruns).
"""

from collections.abc import Sequence
from io import BytesIO

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

CHINESE_FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(CHINESE_FONT))
rl_config.invariant = 1

TITLE = ParagraphStyle("title", fontName=CHINESE_FONT, fontSize=15, leading=20, spaceAfter=4)
TEXT = ParagraphStyle("text", fontName=CHINESE_FONT, fontSize=9.5, leading=13)


def table_document(
    *,
    title: str,
    lines: Sequence[str] = (),
    header: Sequence[str] = (),
    rows: Sequence[Sequence[str]] = (),
    footer: Sequence[str] = (),
    pagesize=A4,
) -> bytes:
    """A one-table document: a title, lines of text, a table with a header row, a footer."""
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=title,
        invariant=1,
    )
    story = [Paragraph(_escape(title), TITLE)]
    story += [Paragraph(_escape(line), TEXT) for line in lines]
    if header or rows:
        story.append(Spacer(1, 4 * mm))
        table = Table([list(header), *[list(row) for row in rows]], repeatRows=1 if header else 0)
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), CHINESE_FONT, 8.5),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                    ("LINEBELOW", (0, -1), (-1, -1), 0.3, colors.grey),
                    ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story.append(table)
    if footer:
        story.append(Spacer(1, 4 * mm))
        story += [Paragraph(_escape(line), TEXT) for line in footer]
    document.build(story)
    return buffer.getvalue()


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
