"""The certificates demo: the demo farmer's lots carry certificates, and seeding twice
creates nothing new."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from traceability.choices import CertificateBasis
from traceability.models import Certificate, TraceCode
from traceability.selectors.certificates import kg_left_to_certify

pytestmark = pytest.mark.django_db


def test_demo_farmers_lots_carry_certificates_and_a_second_run_adds_none():
    call_command("seed_demo", "--force", stdout=StringIO())
    first = sorted(Certificate.objects.values_list("lot__lot_code", "quantity_kg", "basis"))
    codes = TraceCode.objects.count()

    call_command("seed_demo", "--force", stdout=StringIO())

    assert sorted(Certificate.objects.values_list("lot__lot_code", "quantity_kg", "basis")) == first
    assert TraceCode.objects.count() == codes
    mine = Certificate.objects.filter(lot__farm__farmer__username="farmer").select_related("lot")
    by_lot = {certificate.lot.lot_code: certificate for certificate in mine}
    assert by_lot["DEMO-SG-0001"].quantity_kg == Decimal("600.000")
    assert by_lot["DEMO-SG-0001"].basis == CertificateBasis.COMMISSIONED_TEST
    assert by_lot["DEMO-SG-0001"].test_report_number == "SGJC-2026-0412"
    assert kg_left_to_certify(by_lot["DEMO-SG-0001"].lot) == Decimal("600.000")
    assert kg_left_to_certify(by_lot["DEMO-SG-0002"].lot) == Decimal("0.000")
    assert all(certificate.trace_code.revoked_at is None for certificate in mine)
