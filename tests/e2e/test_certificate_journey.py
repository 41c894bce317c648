"""Journey 1: the demo farmer issues a compliance certificate from her phone (360 × 640) for
part of her tomato lot, on her own test, and downloads its label; the label's QR decodes to
the certificate's trace URL on SITE_URL."""

from io import StringIO
from urllib.parse import urlsplit

import pypdfium2
import pytest
import zxingcpp
from django.core.management import call_command
from django.urls import Resolver404, resolve

from accounts.models import User
from farms.models import HarvestLot
from tests.e2e.conftest import fits_the_screen
from traceability.models import Certificate
from traceability.selectors.certificates import certificate_trace_url

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def qr_texts_of_pdf(path) -> list[str]:
    document = pypdfium2.PdfDocument(str(path))
    try:
        image = document[0].render(scale=3).to_pil()
    finally:
        document.close()
    return [result.text for result in zxingcpp.read_barcodes(image)]


def test_demo_farmer_issues_a_certificate_and_downloads_its_label(
    phone, phone_as, live_server, output_dir, settings
):
    call_command("seed_demo", "--force", stdout=StringIO())
    farmer = User.objects.get(username="farmer")
    lot = HarvestLot.objects.get(lot_code="DEMO-SG-0001")
    before = set(Certificate.objects.values_list("pk", flat=True))
    page = phone_as(farmer)

    page.goto(f"{live_server.url}/lots/{lot.pk}/")
    page.click("[data-testid=issue-certificate]")
    page.wait_for_url(f"{live_server.url}/trace/lots/{lot.pk}/certificates/new/")
    assert page.input_value("#id_quantity_kg") == "600.000"  # what the demo's 600 kg leave
    assert page.input_value("#id_product_name").startswith("番茄 Tomato")
    assert page.input_value("#id_producer_contact") == farmer.phone
    assert page.locator("[data-test-record]").is_hidden()
    page.fill("#id_quantity_kg", "200")
    for commitment in ("no_banned_substances", "residues_within_limits", "truthful"):
        page.check(f"#id_{commitment}")
    page.check("input[name=basis][value=own_test]")
    assert page.locator("[data-test-record]").is_visible()
    page.fill("#id_test_report_number", "ZJ-2026-07")
    page.fill("#id_tested_on", lot.harvest_date.isoformat())
    assert fits_the_screen(page)
    page.screenshot(path=output_dir / "1-certificate-form.png", full_page=True)
    page.click("[data-testid=issue]")
    page.wait_for_url(f"{live_server.url}/trace/certificates/*/")

    certificate = (
        Certificate.objects.exclude(pk__in=before)
        .select_related("trace_code", "lot__product")
        .get()
    )
    assert str(certificate.quantity_kg) == "200.000"
    assert certificate.test_report_number == "ZJ-2026-07"
    assert page.locator("[data-testid=status]").inner_text() == "Valid"
    assert fits_the_screen(page)
    page.screenshot(path=output_dir / "2-certificate.png", full_page=True)

    with page.expect_download() as download_info:
        page.click("[data-testid=download-label]")
    download = download_info.value
    saved = output_dir / download.suggested_filename
    download.save_as(saved)

    chinese = phone(locale="zh-CN", user=farmer)
    chinese.goto(f"{live_server.url}/trace/certificates/{certificate.pk}/")
    assert chinese.locator("[data-testid=status]").inner_text() == "有效"
    assert fits_the_screen(chinese)
    chinese.screenshot(path=output_dir / "3-certificate-zh.png", full_page=True)

    url = certificate_trace_url(certificate)
    assert download.suggested_filename == f"certificate-{certificate.trace_code.code}-label.pdf"
    assert qr_texts_of_pdf(saved) == [url]
    assert url.startswith(settings.SITE_URL + "/")
    path = urlsplit(url).path
    try:
        resolve(path)
    except Resolver404:
        return  # the public trace page is journey 4's
    response = page.goto(f"{live_server.url}{path}")
    assert response is not None
    assert response.status == 200
