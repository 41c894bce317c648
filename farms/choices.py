from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ProductCategory(models.TextChoices):
    """Produce groups as Chinese wholesale markets sort them (叶菜类, 茄果类, 仁果类 …)."""

    LEAFY_VEGETABLE = "leafy_vegetable", _("Leafy vegetable")
    FRUIT_VEGETABLE = "fruit_vegetable", _("Fruit vegetable")
    ROOT_AND_TUBER = "root_and_tuber", _("Root and tuber")
    ALLIUM = "allium", _("Onion and garlic")
    BRASSICA = "brassica", _("Cabbage family")
    MUSHROOM = "mushroom", _("Mushroom")
    POME_FRUIT = "pome_fruit", _("Pome fruit")
    STONE_FRUIT = "stone_fruit", _("Stone fruit")
    CITRUS = "citrus", _("Citrus")
    BERRY = "berry", _("Berry, grape and kiwifruit")
    TROPICAL_FRUIT = "tropical_fruit", _("Tropical fruit")
    MELON = "melon", _("Melon")
    FLOWERS = "flowers", _("Cut flowers")


class Grade(models.TextChoices):
    """Quality grades of the Chinese produce grading standards (NY/T, GB/T)."""

    SPECIAL = "special", _("Special grade")
    FIRST = "first", _("Grade 1")
    SECOND = "second", _("Grade 2")
    THIRD = "third", _("Grade 3")


DEFAULT_GRADE_SCALE = [Grade.SPECIAL.value, Grade.FIRST.value, Grade.SECOND.value]


def default_grade_scale() -> list[str]:
    return list(DEFAULT_GRADE_SCALE)


class ProductUnit(models.TextChoices):
    KG = "kg", _("kg")


class Certification(models.TextChoices):
    GREEN_FOOD = "green_food", _("Green Food")
    ORGANIC = "organic", _("Organic")
    POLLUTION_FREE = "pollution_free", _("Pollution-free")
    GEOGRAPHICAL_INDICATION = "geographical_indication", _("Geographical indication")


class PesticideTestResult(models.TextChoices):
    NOT_TESTED = "not_tested", _("Not tested")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")


class ShelfLifeModel(models.TextChoices):
    """How the rate of quality loss changes with temperature (see StorageProfile)."""

    Q10 = "q10", _("Q10 (rate ratio per 10 °C)")
    ARRHENIUS = "arrhenius", _("Arrhenius (activation energy)")
    SQRT = "sqrt", _("Square-root (Ratkowsky)")


class InvitationStatus(models.TextChoices):
    """A membership invitation waits for her answer, or was answered or withdrawn."""

    PENDING = "pending", pgettext_lazy("invitation", "Waiting for an answer")
    ACCEPTED = "accepted", pgettext_lazy("invitation", "Accepted")
    DECLINED = "declined", pgettext_lazy("invitation", "Declined")
    WITHDRAWN = "withdrawn", pgettext_lazy("invitation", "Withdrawn")


class HoldSource(models.TextChoices):
    """Why a lot is held from sale; the record that put the hold names itself in `reference`."""

    ENTRY_CHECK = "entry_check", _("Market entry check failed or missing")
    RAPID_TEST = "rapid_test", _("Positive rapid test")
    LABORATORY = "laboratory", _("Laboratory result")
    RECALL = "recall", _("Recall")


class ApplicationStatus(models.TextChoices):
    """A co-operative's application to join: waiting for the platform admin, returned to the
    applicant for changes, or decided."""

    PENDING = "pending", pgettext_lazy("application", "Waiting for review")
    CHANGES_REQUESTED = "changes_requested", pgettext_lazy("application", "Changes requested")
    APPROVED = "approved", pgettext_lazy("application", "Approved")
    DECLINED = "declined", pgettext_lazy("application", "Declined")


# An open application is the applicant's to follow or edit; she may have only one.
OPEN_APPLICATION_STATUSES = (ApplicationStatus.PENDING, ApplicationStatus.CHANGES_REQUESTED)
