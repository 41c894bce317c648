"""A co-operative's application to join the platform, reviewed by the platform admin."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.private_files import private_storage

from ..choices import OPEN_APPLICATION_STATUSES, ApplicationStatus
from .cooperatives import Cooperative


class CooperativeApplication(models.Model):
    """What a would-be co-operative manager tells the platform, with its business licence.

    The licence photo is private (common/private_files.py): only the applicant and the
    platform admin see it, through the application's checked view."""

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        # An approved application stays as the record of how the co-operative came in.
        on_delete=models.SET_NULL,
        null=True,
        related_name="cooperative_applications",
        verbose_name=_("applicant"),
    )
    name = models.CharField(_("co-operative name"), max_length=120)
    registration_code = models.CharField(_("unified social credit code"), max_length=18)
    province = models.CharField(_("province"), max_length=40)
    region = models.CharField(_("city or county"), max_length=80)
    contact_name = models.CharField(_("contact name"), max_length=80)
    contact_phone = models.CharField(_("contact mobile number"), max_length=20)
    licence = models.ImageField(
        _("business licence photo"),
        upload_to="cooperative-licences/%Y/%m/",
        storage=private_storage,
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.PENDING,
    )
    # The admin's reason for asking changes or declining; the applicant reads it.
    reason = models.TextField(_("reason"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    cooperative = models.OneToOneField(
        Cooperative,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="application",
        verbose_name=_("co-operative"),
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("co-operative application")
        verbose_name_plural = _("co-operative applications")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant"],
                condition=Q(status__in=OPEN_APPLICATION_STATUSES),
                name="cooperative_application_one_open_per_person",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ApplicationStatus.values),
                name="cooperative_application_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_APPLICATION_STATUSES
