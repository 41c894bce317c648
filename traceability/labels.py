"""A certificate's printable label: 承诺达标合格证 with its QR code.

Two layouts of the same 100 × 70 mm label: one label per page, for the small thermal label
printers sold for these certificates, and A4 sheets of 2 × 4 labels for an office printer.
The label is bilingual whatever the reader's language (the certificate is a Chinese document;
English follows each heading); Chinese text uses reportlab's built-in CID font STSong-Light
(common.pdf), so no font file ships. The QR is drawn as vector squares (segno's matrix), sharp
at any printer's resolution, and carries the certificate's absolute trace URL.
"""

from dataclasses import dataclass
from enum import StrEnum
from io import BytesIO

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from common.pdf import CHINESE_FONT

from .choices import CertificateBasis
from .codes import grouped
from .models import Certificate
from .selectors.certificates import certificate_trace_url

LABEL_WIDTH = 100 * mm
LABEL_HEIGHT = 70 * mm
SHEET_COLUMNS = 2
SHEET_ROWS = 4
LABELS_PER_SHEET = SHEET_COLUMNS * SHEET_ROWS
DEFAULT_SHEET_COPIES = LABELS_PER_SHEET
MAX_SHEET_COPIES = 10 * LABELS_PER_SHEET  # ten sheets; more is a print shop's job

TITLE_ZH = "承诺达标合格证"
TITLE_EN = "Compliance Certificate · Commitment to Standard"
COMMITMENTS_ZH = (
    "我承诺对生产销售的食用农产品：√不使用禁用农药兽药、停用兽药和非法添加物 "
    "√常规农药兽药残留不超标 √对承诺的真实性负责"
)
COMMITMENTS_EN = (
    "I commit that this produce: used no banned pesticides, veterinary drugs or illegal "
    "additives; has routine residues within the national limits; and I answer for the truth "
    "of this commitment."
)
# The basis as the official form prints it, in its order.
BASIS_ZH = {
    CertificateBasis.COMMISSIONED_TEST: "委托检测",
    CertificateBasis.OWN_TEST: "自我检测",
    CertificateBasis.INTERNAL_QUALITY_CONTROL: "内部质量控制",
    CertificateBasis.SELF_COMMITMENT: "自我承诺",
}
BASIS_EN = {
    CertificateBasis.COMMISSIONED_TEST: "commissioned test",
    CertificateBasis.OWN_TEST: "own test",
    CertificateBasis.INTERNAL_QUALITY_CONTROL: "internal quality control",
    CertificateBasis.SELF_COMMITMENT: "self-commitment",
}

_TITLE = ParagraphStyle("label-title", fontName=CHINESE_FONT, fontSize=12, leading=13)
_SUBTITLE = ParagraphStyle("label-subtitle", fontName=CHINESE_FONT, fontSize=5.5, leading=6.5)
_FIELD = ParagraphStyle(
    "label-field", fontName=CHINESE_FONT, fontSize=6.8, leading=8.2, wordWrap="CJK"
)
_SMALL = ParagraphStyle(
    "label-small", fontName=CHINESE_FONT, fontSize=5.4, leading=6.4, wordWrap="CJK"
)
_CODE = ParagraphStyle("label-code", fontName="Courier-Bold", fontSize=7, leading=8, alignment=1)


def _escape(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def qr_of(certificate: Certificate) -> segno.QRCode:
    return segno.make_qr(certificate_trace_url(certificate), error="m")


def qr_png(certificate: Certificate, *, scale: int = 8) -> bytes:
    """The certificate's QR as a PNG, with the standard four-module quiet zone."""
    buffer = BytesIO()
    qr_of(certificate).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def label_lines(certificate: Certificate) -> list[tuple[str, str]]:
    """The label's fields as (bilingual heading, value), in the official form's order."""
    lot = certificate.lot
    return [
        ("品名 Product", certificate.product_name),
        ("数量 Quantity", f"{certificate.quantity_kg:.3f} kg"),
        ("产地 Origin", certificate.origin),
        ("生产者 Producer", certificate.producer_name),
        ("联系方式 Contact", certificate.producer_contact),
        ("开具日期 Issued", certificate.issued_on.isoformat()),
        ("批次 Lot", lot.lot_code),
    ]


def basis_line(certificate: Certificate) -> str:
    """承诺依据 with the chosen basis marked, as the form's boxes: ■ chosen, □ not."""
    boxes = " ".join(
        f"{'■' if certificate.basis == basis else '□'}{name}" for basis, name in BASIS_ZH.items()
    )
    english = BASIS_EN.get(CertificateBasis(certificate.basis), certificate.basis)
    return f"承诺依据 Basis: {boxes} ({english})"


def report_line(certificate: Certificate) -> str:
    if not certificate.test_report_number:
        return ""
    parts = [f"检测报告 Test report {certificate.test_report_number}"]
    if certificate.tested_on:
        parts.append(certificate.tested_on.isoformat())
    if certificate.test_laboratory:
        parts.append(certificate.test_laboratory)
    return " · ".join(parts)


def _scaled(style: ParagraphStyle, scale: float) -> ParagraphStyle:
    return ParagraphStyle(
        f"{style.name}-{scale}",
        parent=style,
        fontSize=style.fontSize * scale,
        leading=style.leading * scale,
    )


def _paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(_escape(text), style)


def _draw(canvas: Canvas, paragraph: Paragraph, *, x: float, top: float, width: float) -> float:
    """Draw a paragraph whose top is at `top`; returns where the next one starts."""
    _width, height = paragraph.wrapOn(canvas, width, LABEL_HEIGHT)
    paragraph.drawOn(canvas, x, top - height)
    return top - height


def _height(paragraphs: list[Paragraph], width: float) -> float:
    return sum(paragraph.wrap(width, LABEL_HEIGHT)[1] for paragraph in paragraphs)


def _draw_qr(canvas: Canvas, qr: segno.QRCode, *, x: float, y: float, size: float) -> None:
    """The QR's dark modules as squares in a size × size box whose lower left is (x, y),
    quiet zone included (four modules each side)."""
    rows = list(qr.matrix_iter(border=4))
    module = size / len(rows)
    canvas.setFillColorRGB(0, 0, 0)
    for row_index, row in enumerate(rows):
        top = y + size - (row_index + 1) * module
        for column_index, dark in enumerate(row):
            if dark:
                canvas.rect(x + column_index * module, top, module, module, stroke=0, fill=1)


MARGIN = 3.5 * mm
QR_SIZE = 31 * mm
QR_BLOCK_HEIGHT = QR_SIZE + 3.5 * mm  # the QR and its code below
INNER_WIDTH = LABEL_WIDTH - 2 * MARGIN
FIELDS_WIDTH = INNER_WIDTH - QR_SIZE - 1.5 * mm
GAP = 1 * mm
# Long names wrap; when the text would run off the label it is set smaller, down to half.
SCALES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)


@dataclass(frozen=True)
class LabelText:
    """The label's text set at one size: the fields beside the QR, the commitments, basis
    and test record across the foot."""

    scale: float
    fields: list[Paragraph]
    footer: list[Paragraph]
    fits: bool


def _header() -> list[Paragraph]:
    return [_paragraph(TITLE_ZH, _TITLE), _paragraph(TITLE_EN, _SUBTITLE)]


def label_text(certificate: Certificate) -> LabelText:
    """The label's text at the largest size that fits in 100 × 70 mm."""
    available = LABEL_HEIGHT - 2 * MARGIN - _height(_header(), INNER_WIDTH) - GAP
    footer_lines = [COMMITMENTS_ZH, COMMITMENTS_EN, basis_line(certificate)]
    if line := report_line(certificate):
        footer_lines.append(line)
    if certificate.revoked_at is not None:
        footer_lines.append("已撤销 REVOKED")
    for scale in SCALES:
        text = _set_text(certificate, footer_lines, scale=scale, available=available)
        if text.fits:
            return text
    return text  # the smallest size, which fits all but pathological text


def _set_text(
    certificate: Certificate, footer_lines: list[str], *, scale: float, available: float
) -> LabelText:
    field_style, small_style = _scaled(_FIELD, scale), _scaled(_SMALL, scale)
    fields = [
        _paragraph(f"{heading}: {value}", field_style)
        for heading, value in label_lines(certificate)
    ]
    footer = [_paragraph(line, small_style) for line in footer_lines]
    upper = max(_height(fields, FIELDS_WIDTH), QR_BLOCK_HEIGHT)
    fits = upper + GAP + _height(footer, INNER_WIDTH) <= available
    return LabelText(scale=scale, fields=fields, footer=footer, fits=fits)


def _draw_label(canvas: Canvas, certificate: Certificate, qr: segno.QRCode, *, x, y) -> None:
    """One 100 × 70 mm label whose lower left corner is (x, y)."""
    canvas.setLineWidth(0.4)
    canvas.setStrokeColorRGB(0.55, 0.55, 0.55)
    canvas.rect(x + 1 * mm, y + 1 * mm, LABEL_WIDTH - 2 * mm, LABEL_HEIGHT - 2 * mm)
    left = x + MARGIN
    top = y + LABEL_HEIGHT - MARGIN
    for paragraph in _header():
        top = _draw(canvas, paragraph, x=left, top=top, width=INNER_WIDTH)
    top -= GAP

    qr_x = x + LABEL_WIDTH - MARGIN - QR_SIZE
    _draw_qr(canvas, qr, x=qr_x, y=top - QR_SIZE, size=QR_SIZE)
    code = _paragraph(grouped(certificate.trace_code.code), _CODE)
    _draw(canvas, code, x=qr_x, top=top - QR_SIZE, width=QR_SIZE)

    text = label_text(certificate)
    fields_top = top
    for paragraph in text.fields:
        fields_top = _draw(canvas, paragraph, x=left, top=fields_top, width=FIELDS_WIDTH)
    top = min(fields_top, top - QR_BLOCK_HEIGHT) - GAP
    for paragraph in text.footer:
        top = _draw(canvas, paragraph, x=left, top=top, width=INNER_WIDTH)


def _new_canvas(buffer: BytesIO, *, pagesize, certificate: Certificate) -> Canvas:
    canvas = Canvas(buffer, pagesize=pagesize, invariant=1, pageCompression=1)
    canvas.setTitle(f"{TITLE_ZH} {certificate.trace_code.code}")
    canvas.setAuthor(certificate.producer_name)
    return canvas


def label_pdf(certificate: Certificate) -> bytes:
    """One 100 × 70 mm page: the label for a label printer."""
    buffer = BytesIO()
    canvas = _new_canvas(buffer, pagesize=(LABEL_WIDTH, LABEL_HEIGHT), certificate=certificate)
    _draw_label(canvas, certificate, qr_of(certificate), x=0, y=0)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def sheet_pdf(certificate: Certificate, *, copies: int = DEFAULT_SHEET_COPIES) -> bytes:
    """A4 sheets of 2 × 4 labels, filled row by row, as many labels as `copies` (1 to
    MAX_SHEET_COPIES; the caller checks)."""
    copies = max(1, min(copies, MAX_SHEET_COPIES))
    page_width, page_height = A4
    left = (page_width - SHEET_COLUMNS * LABEL_WIDTH) / 2
    bottom = (page_height - SHEET_ROWS * LABEL_HEIGHT) / 2
    buffer = BytesIO()
    canvas = _new_canvas(buffer, pagesize=A4, certificate=certificate)
    qr = qr_of(certificate)
    for index in range(copies):
        place = index % LABELS_PER_SHEET
        if index and place == 0:
            canvas.showPage()
        row, column = divmod(place, SHEET_COLUMNS)
        x = left + column * LABEL_WIDTH
        y = bottom + (SHEET_ROWS - 1 - row) * LABEL_HEIGHT
        _draw_label(canvas, certificate, qr, x=x, y=y)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


class LabelLayout(StrEnum):
    LABEL = "label"  # one 100 × 70 mm label per page
    A4 = "a4"  # A4 sheets of 2 × 4 labels


@dataclass(frozen=True)
class LabelFile:
    """A download: its bytes, its media type and the file name a phone saves it under."""

    content: bytes
    content_type: str
    filename: str


def label_file(
    certificate: Certificate, *, layout: str = LabelLayout.LABEL, copies: int | None = None
) -> LabelFile:
    """The label PDF in one of the two layouts (copies count for A4 sheets only)."""
    code = certificate.trace_code.code
    if layout == LabelLayout.A4:
        content = sheet_pdf(certificate, copies=copies or DEFAULT_SHEET_COPIES)
        return LabelFile(content, "application/pdf", f"certificate-{code}-a4.pdf")
    return LabelFile(label_pdf(certificate), "application/pdf", f"certificate-{code}-label.pdf")


def qr_file(certificate: Certificate) -> LabelFile:
    code = certificate.trace_code.code
    return LabelFile(qr_png(certificate), "image/png", f"certificate-{code}-qr.png")
