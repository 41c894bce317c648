"""Her personal data as a PDF to read and keep: each section a heading, then its facts as
"key: value" lines, lists one item a line. The JSON download is the same data, for machines.

Chinese text uses reportlab's built-in CID font (common.pdf).
"""

from io import BytesIO
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from common.pdf import CHINESE_FONT, TEXT, TITLE

from .services.personal_data import PersonalDataExport

HEADING = ParagraphStyle(
    "heading", fontName=CHINESE_FONT, fontSize=12, leading=16, spaceBefore=6, spaceAfter=2
)
ITEM = ParagraphStyle("item", parent=TEXT, leftIndent=4 * mm)


def personal_data_pdf(export: PersonalDataExport) -> bytes:
    buffer = BytesIO()
    title = _("Your personal data on FreshChain")
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=title,
    )
    generated = timezone.localtime(export.generated_at).strftime("%Y-%m-%d %H:%M")
    story: list[Any] = [
        Paragraph(_escape(title), TITLE),
        Paragraph(_escape(_("Made on %(when)s.") % {"when": generated}), TEXT),
    ]
    for name, data in export.sections.items():
        story.append(Paragraph(_escape(export.labels.get(name, name)), HEADING))
        story += [Paragraph(_escape(line), ITEM) for line in _lines(data)]
        story.append(Spacer(1, 2 * mm))
    document.build(story)
    return buffer.getvalue()


def _lines(data: Any, prefix: str = "") -> list[str]:
    """Nested dicts and lists as readable lines: "profile · phone: +86…", "orders 1: …"."""
    if isinstance(data, dict):
        if all(not isinstance(v, (dict, list)) for v in data.values()):
            text = "; ".join(f"{key}: {_value(value)}" for key, value in data.items())
            return [f"{prefix}{text}" if prefix else text]
        lines: list[str] = []
        for key, value in data.items():
            label = f"{prefix}{key}"
            if isinstance(value, (dict, list)):
                lines += _lines(value, f"{label} · ")
            else:
                lines.append(f"{label}: {_value(value)}")
        return lines
    if isinstance(data, list):
        if not data:
            return [f"{prefix}—"]
        lines = []
        for number, item in enumerate(data, start=1):
            lines += _lines(item, f"{prefix}{number} · ")
        return lines
    return [f"{prefix}{_value(data)}"]


def _value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return str(value)


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
