"""The audit log of sensitive actions. Append-only: PostgreSQL refuses UPDATE and DELETE
of its rows (migration 0004), as it does for the ledger's postings."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import AuditAction
from .users import User


class AuditEntry(models.Model):
    """Who did what, when, from which address, to whom or what, and what changed.

    Never holds a person's phone number or name in clear: a deleted account must leave no
    trace of them, and these rows cannot be changed (accounts.services.audit masks them).
    """

    at = models.DateTimeField(_("at"), default=timezone.now)
    # PROTECT, not SET_NULL: SET NULL would be an UPDATE, which the log refuses; accounts
    # are pseudonymised, never deleted.
    actor = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty: nobody signed in (a failed sign-in, a sign-up)."),
    )
    action = models.CharField(_("action"), max_length=40, choices=AuditAction)
    subject = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("person concerned"),
    )
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_label = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(
        _("changes"), default=dict, blank=True, help_text=_("field: [before, after]")
    )
    client_address = models.GenericIPAddressField(_("from address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["-at"], name="audit_newest"),
            models.Index(fields=["action", "-at"], name="audit_by_action"),
            models.Index(fields=["actor", "-at"], name="audit_by_actor"),
            models.Index(fields=["subject", "-at"], name="audit_by_subject"),
            # "What else came from this address?": without it, a rare address reads the
            # whole log along the time index.
            models.Index(fields=["client_address", "-at"], name="audit_by_address"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    def change_list(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for each change, as a page lists them."""
        return [
            (field, *(pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)))
            for field, pair in sorted(self.changes.items())
        ]
