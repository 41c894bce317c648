"""The tower's one write: each morning's digests, kept and sent to the regulators.

The tower only reads the other apps; what it keeps is the daily digest, so that the PDF of a
day reads the same whenever it is downloaded.
"""

from datetime import date, datetime

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.notifications import notify_many

from ..models import DailyDigest, RegulatorArea
from ..selectors.digest import digest_figures
from ..selectors.scope import regulators_of, scope_of_area

DIGEST_NOTIFICATION = "tower.digest"


def compile_daily_digests(*, day: date, now: datetime) -> list[DailyDigest]:
    """Keep `day`'s digest of the whole country and of every regulator's area, and tell the
    regulators who watch each one.

    Idempotent: a digest already kept is left as it was and nobody is told twice (the
    (business_date, area) unique constraint decides between two concurrent runs).
    """
    areas: list[RegulatorArea | None] = [
        None,
        *RegulatorArea.objects.filter(area__isnull=False, user__is_active=True).order_by("id"),
    ]
    created = []
    for area in areas:
        with transaction.atomic():
            digest, is_new = DailyDigest.objects.get_or_create(
                business_date=day,
                area=area,
                defaults={"figures": digest_figures(scope_of_area(area), day=day, now=now)},
            )
            if is_new:
                _tell_regulators(digest)
                created.append(digest)
    return created


def _tell_regulators(digest: DailyDigest) -> None:
    day = digest.business_date.isoformat()
    notify_many(
        user_ids=regulators_of(digest.area).values_list("pk", flat=True),
        kind=DIGEST_NOTIFICATION,
        title=_("Control tower digest of %(day)s") % {"day": day},
        body=_("Yesterday's counters, trends and open recalls and excursions, as a PDF."),
        url=reverse("controltower:digest", args=[day]),
        payload={"day": day},
    )
