"""Farmers' co-operatives, their members, and invitations to join them."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.dates import business_today
from common.models import TimeStampedModel

from ..choices import InvitationStatus


class Cooperative(TimeStampedModel):
    """A farmers' specialised co-operative (农民专业合作社)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    name_en = models.CharField(_("English name"), max_length=160, blank=True)
    province = models.CharField(_("province"), max_length=40)
    region = models.CharField(_("city or county"), max_length=80, blank=True)
    location = models.PointField(_("location"), geography=True, srid=4326, null=True, blank=True)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    registration_code = models.CharField(
        _("registration code"),
        max_length=18,
        blank=True,
        help_text=_("Unified social credit code (统一社会信用代码)."),
    )

    class Meta:
        verbose_name = _("co-operative")
        verbose_name_plural = _("co-operatives")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration_code"],
                condition=~Q(registration_code=""),
                name="cooperative_registration_code_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's place in one co-operative; managers run it (role cooperative_manager)."""

    cooperative = models.ForeignKey(
        Cooperative,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("co-operative"),
    )
    # One co-operative per person: the one-to-one is the database's promise.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership",
        verbose_name=_("member"),
    )
    is_manager = models.BooleanField(_("is a manager"), default=False)
    joined_on = models.DateField(_("joined on"), default=business_today)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["cooperative", "-is_manager", "joined_on", "id"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.cooperative}"


class MembershipInvitation(models.Model):
    """A co-operative's invitation to a mobile number. Its holder joins only when she accepts
    it, signed in with that number: through the link texted to the number (which carries a
    token kept here only as its hash), or from her invitations page. `user` is the account
    that held the number when she was invited; None when nobody did yet (she signs up from
    the link)."""

    cooperative = models.ForeignKey(
        Cooperative,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("co-operative"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership_invitations",
        verbose_name=_("invited person"),
        null=True,
        blank=True,
    )
    phone = models.CharField(_("invited mobile number"), max_length=20)
    # SHA-256 of the link's token: a copy of the table opens no invitation.
    token_hash = models.CharField(_("link token hash"), max_length=64, unique=True, null=True)
    sent_at = models.DateTimeField(_("link sent at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link expires at"), null=True, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=InvitationStatus.choices,
        default=InvitationStatus.PENDING,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership invitation")
        verbose_name_plural = _("membership invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cooperative", "phone"],
                condition=Q(status=InvitationStatus.PENDING),
                name="invitation_one_pending_per_number",
            ),
            models.CheckConstraint(
                condition=Q(status__in=InvitationStatus.values), name="invitation_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cooperative} ({self.status})"

    def is_open(self, at) -> bool:
        """Pending, and its link not expired (one made before links existed never expires)."""
        return self.status == InvitationStatus.PENDING and (
            self.expires_at is None or at < self.expires_at
        )
