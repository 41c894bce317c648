"""Demo: certificates on the demo farmer's lots, issued through the service.

Her tomatoes (DEMO-SG-0001) carry a certificate for half the lot on a commissioned test, so
the rest is left for a visitor to certify; her cucumbers (DEMO-SG-0002) one for the whole lot
on her own commitment. A lot that has a certificate already is left alone, so running
seed_demo again creates nothing. Later parts find them in context["certificates"] by lot code.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from common.dates import business_today
from farms.models import HarvestLot

from ..choices import CertificateBasis
from ..models import Certificate
from ..selectors.certificates import certificate_prefill
from ..services.certificates import issue_certificate


@dataclass(frozen=True)
class DemoCertificate:
    lot_code: str
    quantity_kg: str  # "" for what is left of the lot
    basis: str
    test_laboratory: str = ""
    test_report_number: str = ""


CERTIFICATES = (
    DemoCertificate(
        "DEMO-SG-0001",
        "600",
        CertificateBasis.COMMISSIONED_TEST,
        "寿光市农产品质量安全检测中心",
        "SGJC-2026-0412",
    ),
    DemoCertificate("DEMO-SG-0002", "", CertificateBasis.SELF_COMMITMENT),
)


def _issue(spec: DemoCertificate, lot: HarvestLot, farmer) -> Certificate:
    prefill = certificate_prefill(lot)
    needs_test = spec.basis in CertificateBasis.needing_test_record()
    return issue_certificate(
        lot=lot,
        by=farmer,
        quantity_kg=Decimal(spec.quantity_kg) if spec.quantity_kg else prefill.quantity_kg,
        product_name=prefill.product_name,
        origin=prefill.origin,
        producer_name=prefill.producer_name,
        producer_contact=prefill.producer_contact,
        issued_on=business_today(),
        no_banned_substances=True,
        residues_within_limits=True,
        truthful=True,
        basis=spec.basis,
        test_laboratory=spec.test_laboratory,
        test_report_number=spec.test_report_number,
        tested_on=lot.harvest_date if needs_test else None,
    )


@transaction.atomic
def seed(context: dict) -> None:
    farmer = context["people"]["farmer"]
    lots: dict[str, HarvestLot] = context["lots"]
    certificates: dict[str, Certificate] = {}
    for spec in CERTIFICATES:
        lot = lots[spec.lot_code]
        existing = Certificate.objects.filter(lot=lot).order_by("id").first()
        certificates[spec.lot_code] = existing or _issue(spec, lot, farmer)
    context["certificates"] = certificates
