from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .users import User


class Consent(models.Model):
    """A person agreed to one version of the privacy policy (PIPL art. 14: consent is
    informed, so the version she read is kept). A new version asks again."""

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="consents", verbose_name=_("person")
    )
    policy_version = models.CharField(_("privacy policy version"), max_length=20)
    agreed_at = models.DateTimeField(_("agreed at"), default=timezone.now)
    client_address = models.GenericIPAddressField(_("from address"), null=True, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-agreed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "policy_version"], name="consent_once_per_policy_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} agreed to {self.policy_version}"
