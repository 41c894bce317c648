"""Reads of compliance certificates, including who may see and issue them.

Visibility: a farmer sees the certificates of her own lots, a co-operative manager those of
her co-operative's lots, a platform admin all of them. Market staff see a certificate only
through its code at the gate (traceability.selectors.codes), never as a list.

Issuing: only the lot's farmer or a manager of her co-operative may certify a lot: the
certificate is the producer's own commitment, so a platform admin may not issue one.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from accounts.choices import Role
from accounts.models import User
from common.dates import business_today
from farms.models import HarvestLot
from farms.selectors import lots_visible_to

from ..codes import trace_url
from ..models import Certificate

ISSUING_ROLES = (Role.FARMER, Role.COOPERATIVE_MANAGER)


def certificates_visible_to(user: User) -> QuerySet[Certificate]:
    """The certificates this user may see, newest first, with what a page or label shows."""
    return Certificate.objects.filter(lot__in=lots_visible_to(user).values("pk")).select_related(
        "trace_code", "lot__product", "lot__farm__cooperative", "issued_by", "revoked_by"
    )


def lots_certifiable_by(user: User) -> QuerySet[HarvestLot]:
    """The lots this user may issue a certificate for: her own (a farmer), her
    co-operative's (a manager)."""
    if not (user and user.is_authenticated and user.is_active) or user.role not in ISSUING_ROLES:
        return HarvestLot.objects.none()
    return lots_visible_to(user)


def certified_kg(*, lot_id: int) -> Decimal:
    """What the lot's valid (not revoked) certificates cover together, in kg."""
    total = Certificate.objects.filter(lot_id=lot_id, revoked_at__isnull=True).aggregate(
        total=Coalesce(
            Sum("quantity_kg"),
            Value(Decimal("0")),
            output_field=DecimalField(max_digits=14, decimal_places=3),
        )
    )["total"]
    return Decimal(total)


def kg_left_to_certify(lot: HarvestLot) -> Decimal:
    """The lot's weight less what its valid certificates cover; never below zero."""
    return max(lot.quantity_kg - certified_kg(lot_id=lot.pk), Decimal("0.000"))


@dataclass(frozen=True)
class CertificatePrefill:
    """What a new certificate of a lot starts with; she may correct each value."""

    product_name: str
    origin: str
    producer_name: str
    producer_contact: str
    issued_on: date
    quantity_kg: Decimal
    producer_names: tuple[str, ...]  # the co-operative's name and the farmer's, to pick from


def certificate_prefill(lot: HarvestLot) -> CertificatePrefill:
    """The certificate's fields taken from the lot, its farm and the co-operative: the
    product in Chinese and English, the origin as the co-operative's province and county
    (farms are not stored with an address), the co-operative as producer, the farmer's
    mobile number as contact, today, and what is left of the lot."""
    farm = lot.farm
    cooperative = farm.cooperative
    farmer = farm.farmer
    product = lot.product
    product_name = " ".join(part for part in (product.name_zh, product.name_en) if part)
    origin = f"{cooperative.province}{cooperative.region}"
    farmer_name = str(farmer)
    names = tuple(dict.fromkeys(name for name in (cooperative.name, farmer_name) if name))
    return CertificatePrefill(
        product_name=product_name[:120],
        origin=origin[:200],
        producer_name=names[0] if names else "",
        producer_contact=farmer.phone or "",
        issued_on=business_today(),
        quantity_kg=kg_left_to_certify(lot),
        producer_names=names,
    )


def certificate_trace_url(certificate: Certificate) -> str:
    """The absolute URL the certificate's QR carries: a GS1 Digital Link when the product has
    a GTIN, else /t/<code>, on SITE_URL."""
    lot = certificate.lot
    return trace_url(code=certificate.trace_code.code, gtin=lot.product.gtin, lot_code=lot.lot_code)
