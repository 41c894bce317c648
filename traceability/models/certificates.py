"""承诺达标合格证: the producer's commitment-to-standard compliance certificate for a batch."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.models import TimeStampedModel

from ..choices import CertificateBasis
from .codes import TraceCode


class Certificate(TimeStampedModel):
    """One batch's certificate: all or part of a harvest lot. The certificates of a lot never
    add up to more than its weight (checked under the lot's lock when one is issued).

    Product, origin, producer and contact are copied from the lot, farm and co-operative when it
    is issued (she may correct them): a printed certificate does not change afterwards.
    """

    trace_code = models.OneToOneField(
        TraceCode,
        on_delete=models.PROTECT,
        related_name="certificate",
        verbose_name=_("trace code"),
    )
    lot = models.ForeignKey(
        "farms.HarvestLot",
        on_delete=models.PROTECT,
        related_name="certificates",
        verbose_name=_("harvest lot"),
    )
    cooperative = models.ForeignKey(
        "farms.Cooperative",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("co-operative"),
    )
    quantity_kg = models.DecimalField(_("quantity (kg)"), max_digits=12, decimal_places=3)
    product_name = models.CharField(_("product"), max_length=120)
    origin = models.CharField(_("origin"), max_length=200)
    producer_name = models.CharField(_("producer"), max_length=120)
    producer_contact = models.CharField(_("contact"), max_length=40)
    issued_on = models.DateField(_("issued on"))
    # The three commitments printed on every certificate; she ticks each one.
    no_banned_substances = models.BooleanField(
        _("no banned pesticides, veterinary drugs or illegal additives used")
    )
    residues_within_limits = models.BooleanField(
        _("routine pesticide and veterinary drug residues within the national limits")
    )
    truthful = models.BooleanField(_("responsible for the truth of this commitment"))
    basis = models.CharField(_("basis"), max_length=20, choices=CertificateBasis)
    # The test record, when the basis is a test.
    test_laboratory = models.CharField(_("testing laboratory"), max_length=120, blank=True)
    test_report_number = models.CharField(_("test report number"), max_length=60, blank=True)
    tested_on = models.DateField(_("tested on"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued by"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoke_reason = models.CharField(_("reason for revoking"), max_length=300, blank=True)
    # A phone that resends the form after a lost connection sends the same key: the retry
    # returns the first certificate instead of certifying the kilograms twice.
    idempotency_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("compliance certificate")
        verbose_name_plural = _("compliance certificates")
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_kg__gt=0), name="certificate_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(no_banned_substances=True, residues_within_limits=True, truthful=True),
                name="certificate_commitments_all_made",
            ),
            models.CheckConstraint(
                condition=Q(basis__in=CertificateBasis.values), name="certificate_basis_valid"
            ),
            models.CheckConstraint(
                condition=~Q(basis__in=sorted(CertificateBasis.needing_test_record()))
                | (Q(tested_on__isnull=False) & ~Q(test_report_number="")),
                name="certificate_test_basis_has_test_record",
            ),
            models.UniqueConstraint(
                fields=["issued_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="certificate_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_name} · {self.trace_code.code}"

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None
