"""The QR printed on a certificate's label decodes (zxing-cpp) to the certificate's absolute
trace URL on SITE_URL, from the PNG and from the PDFs rendered as a printer would
(pypdfium2); the URL's path opens the public trace page once that page is routed."""

from io import BytesIO
from urllib.parse import urlsplit

import pypdfium2
import pytest
import zxingcpp
from django.urls import Resolver404, resolve
from PIL import Image

from traceability.codes import trace_url
from traceability.labels import label_text

pytestmark = pytest.mark.django_db

SITE = "https://trace.freshchain.example"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def decoded(image: Image.Image) -> list[str]:
    return [
        result.text
        for result in zxingcpp.read_barcodes(image)
        if result.format == zxingcpp.BarcodeFormat.QRCode
    ]


def pdf_pages(content: bytes, *, scale: float = 3) -> list[Image.Image]:
    """Each page rendered at 216 dpi, as a phone's camera would read a print."""
    document = pypdfium2.PdfDocument(content)
    try:
        return [page.render(scale=scale).to_pil() for page in document]
    finally:
        document.close()


def assert_opens(client, url: str) -> None:
    """The decoded URL's path is answered by this site once the public page is routed."""
    path = urlsplit(url).path
    try:
        resolve(path)
    except Resolver404:
        return  # /t/<code> and /01/… belong to the public page (journey 4)
    assert client.get(path).status_code == 200


def test_qr_png_carries_the_sites_trace_url(client, member, lot, issue):
    certificate = issue(lot=lot, by=member)
    client.force_login(member)

    png = client.get(f"/trace/certificates/{certificate.pk}/qr.png").content

    expected = trace_url(code=certificate.trace_code.code)
    assert expected == f"{SITE}/t/{certificate.trace_code.code}"
    assert decoded(Image.open(BytesIO(png))) == [expected]
    assert_opens(client, expected)


def test_label_pdf_qr_decodes_after_rendering(client, member, lot, issue):
    certificate = issue(lot=lot, by=member)
    client.force_login(member)

    pdf = client.get(f"/trace/certificates/{certificate.pk}/label.pdf?layout=label").content

    pages = pdf_pages(pdf)
    assert len(pages) == 1
    assert decoded(pages[0]) == [f"{SITE}/t/{certificate.trace_code.code}"]


def test_a4_sheet_carries_eight_readable_labels_by_default(client, member, lot, issue):
    certificate = issue(lot=lot, by=member)
    client.force_login(member)

    pdf = client.get(f"/trace/certificates/{certificate.pk}/label.pdf?layout=a4").content

    pages = pdf_pages(pdf)
    assert len(pages) == 1
    assert decoded(pages[0]) == [f"{SITE}/t/{certificate.trace_code.code}"] * 8


def test_a_product_with_a_gtin_gets_a_digital_link(client, member, lot, issue):
    lot.product.gtin = "6901234567892"
    lot.product.save(update_fields=["gtin"])
    certificate = issue(lot=lot, by=member)
    client.force_login(member)

    png = client.get(f"/trace/certificates/{certificate.pk}/qr.png").content
    pdf = client.get(f"/trace/certificates/{certificate.pk}/label.pdf").content

    expected = f"{SITE}/01/06901234567892/10/SG-TOMATO-01/21/{certificate.trace_code.code}"
    assert decoded(Image.open(BytesIO(png))) == [expected]
    assert decoded(pdf_pages(pdf)[0]) == [expected]
    assert_opens(client, expected)


def test_the_longest_fields_still_fit_the_label_and_its_qr_reads(client, member, lot, issue):
    certificate = issue(
        lot=lot,
        by=member,
        product_name="番" * 120,
        origin="山东省潍坊市寿光市孙家集街道" * 14,
        producer_name="寿光市鲜丰蔬菜专业合作社" * 10,
        producer_contact="0536-1234567 / +8613800138000 / 0536-765",
    )
    client.force_login(member)

    text = label_text(certificate)
    pdf = client.get(f"/trace/certificates/{certificate.pk}/label.pdf").content

    assert text.fits
    assert text.scale < 1
    assert decoded(pdf_pages(pdf)[0]) == [f"{SITE}/t/{certificate.trace_code.code}"]


def test_an_ordinary_certificate_is_printed_at_full_size(member, lot, issue):
    certificate = issue(lot=lot, by=member)

    assert label_text(certificate).scale == 1.0
