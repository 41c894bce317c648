"""Asking a person to call back, instead of showing her number.

A courier sees his consumer's number masked (138****0001), a seller her buyer's; either taps
"ask her to call me back", and she is told in the app who asks, about what, with the
requester's number to call. Her number is never shown to him.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .users import User


class CallbackRequest(models.Model):
    requester = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="callbacks_requested",
        verbose_name=_("asked by"),
    )
    person = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="callbacks_asked_of",
        verbose_name=_("asked of"),
    )
    # What it is about, as the apps above accounts name it: "delivery.order:17" for the
    # rate limit, a reference to read ("Order 7K2M…") and the page of it.
    about_key = models.CharField(_("about (key)"), max_length=80)
    about = models.CharField(_("about"), max_length=120)
    about_url = models.CharField(_("about (link)"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)

    class Meta:
        verbose_name = _("call-back request")
        verbose_name_plural = _("call-back requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["about_key", "-created_at"], name="callback_latest_per_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.about_key} {self.created_at:%Y-%m-%d %H:%M}"
