"""Call-back requests: a courier or a seller reaches a consumer or buyer without seeing her
number. The app above accounts checks that the requester may ask (his task's consumer, her
order's buyer) and names the order; this module keeps the request, limits it, and tells her."""

import math
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from ..exceptions import CallbackAskedRecently, CallbackNeedsYourNumber
from ..models import CallbackRequest, User
from ..notifications import notify

CALLBACK_REQUESTED = "callback.requested"


def callback_interval() -> timedelta:
    return timedelta(minutes=settings.CALLBACK_REQUEST_INTERVAL_MINUTES)


def request_callback(
    *,
    requester: User,
    person: User,
    requester_role: str | Promise,
    about_key: str,
    about: str,
    about_url: str = "",
) -> CallbackRequest:
    """Ask `person` to call `requester` back about `about` (an order's reference). She gets a
    notification naming the order and the requester's role, linking to his number; his
    screen never gets hers. At most one request per subject (`about_key`) in the interval,
    whoever asks."""
    if not requester.phone:
        raise CallbackNeedsYourNumber
    with transaction.atomic():
        # One at a time per person: the check and the insert below cannot race.
        User.objects.select_for_update(no_key=True).filter(pk=person.pk).first()
        since = timezone.now() - callback_interval()
        latest = (
            CallbackRequest.objects.filter(about_key=about_key, created_at__gt=since)
            .order_by("-created_at")
            .first()
        )
        if latest is not None:
            wait = latest.created_at + callback_interval() - timezone.now()
            minutes = max(1, math.ceil(wait.total_seconds() / 60))
            raise CallbackAskedRecently(
                _("A call-back about this was asked a moment ago; ask again in %(minutes)d min.")
                % {"minutes": minutes}
            )
        request = CallbackRequest.objects.create(
            requester=requester,
            person=person,
            about_key=about_key,
            about=about[:120],
            about_url=about_url,
        )
        notify(
            user=person,
            kind=CALLBACK_REQUESTED,
            title=_("Please call back: %(about)s") % {"about": about},
            body=_("The %(role)s of %(about)s asks you to call back at %(number)s.")
            % {
                "role": requester_role,
                "about": about,
                "number": requester.phone.removeprefix("+86"),
            },
            url=f"tel:{requester.phone}",
            payload={"callback": request.pk, "about_url": about_url},
        )
    return request
