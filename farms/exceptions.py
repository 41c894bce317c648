"""Refusals of the farms app. Each names the input at fault in `field` where one is."""

from django.utils.translation import gettext_lazy as _

from common.exceptions import DomainError, RefusalKind


class FarmsError(DomainError):
    default_message = _("The farms request was refused.")


class BoundaryOrLocationRequired(FarmsError):
    default_message = _("Draw the farm's boundary or give its location.")
    field = "boundary"


class FarmNameTaken(FarmsError):
    default_message = _("This farmer already has a farm with this name.")
    field = "name"


class NotCooperativeManager(FarmsError):
    default_message = _("Only a manager of this co-operative may do that.")
    kind = RefusalKind.FORBIDDEN


class FarmerNotMember(FarmsError):
    default_message = _("Choose a farmer who is a member of the co-operative.")
    field = "farmer"


class AlreadyMember(FarmsError):
    default_message = _("This person already belongs to a co-operative.")
    field = "phone"


class InvalidMemberDetails(FarmsError):
    default_message = _("Check the member's name and mobile number.")


class FarmNotAvailable(FarmsError):
    default_message = _("Choose one of your farms.")
    field = "farm"


class ProductNotAvailable(FarmsError):
    default_message = _("Choose a product from the catalogue.")
    field = "product"


class GradeNotInScale(FarmsError):
    default_message = _("This grade is not used for this product.")
    field = "grade"


class InvalidQuantity(FarmsError):
    default_message = _("Enter a quantity above 0 kg and at most 500,000 kg.")
    field = "quantity_kg"


class HarvestDateInFuture(FarmsError):
    default_message = _("The harvest date cannot be in the future.")
    field = "harvest_date"


class InvalidCertification(FarmsError):
    default_message = _("Choose certifications from the list.")
    field = "certifications"


class InvalidTestDate(FarmsError):
    default_message = _("Give a test date only for a tested lot, and not in the future.")
    field = "tested_on"


class InvalidLotCode(FarmsError):
    default_message = _("Use 3 to 40 letters, digits, dots, hyphens or underscores.")
    field = "lot_code"


class LotCodeTaken(FarmsError):
    default_message = _("This lot code is already used; choose another or leave it empty.")
    field = "lot_code"


class InvalidCatalogue(FarmsError):
    default_message = _("The product catalogue file is invalid.")


class InvitationNotAvailable(FarmsError):
    default_message = _("This invitation does not exist or is not yours.")
    kind = RefusalKind.NOT_FOUND


class InvitationAlreadyAnswered(FarmsError):
    default_message = _("This invitation was already answered or withdrawn.")
    kind = RefusalKind.CONFLICT


class CannotJoinCooperative(FarmsError):
    default_message = _(
        "This account cannot join a co-operative: only a farmer in no co-operative can."
    )
    kind = RefusalKind.CONFLICT


class InvitationExpired(FarmsError):
    default_message = _(
        "This invitation link has expired: ask the co-operative's manager to invite you again."
    )
    kind = RefusalKind.CONFLICT


class MemberOfAnotherCooperative(FarmsError):
    default_message = _(
        "This number belongs to a member of another co-operative: a person can be a member of "
        "one co-operative only."
    )
    kind = RefusalKind.CONFLICT
    field = "phone"


class InvalidLicencePhoto(FarmsError):
    default_message = _("Upload the business licence as a JPEG, PNG or WebP photo.")
    field = "licence"


class ApplicationNotAvailable(FarmsError):
    default_message = _("This application does not exist or is not yours.")
    kind = RefusalKind.NOT_FOUND


class ApplicationAlreadyOpen(FarmsError):
    default_message = _(
        "You already have a co-operative application under way: follow or edit that one."
    )
    kind = RefusalKind.CONFLICT
    field = "name"


class ApplicationNotReviewable(FarmsError):
    default_message = _("This application is not waiting for a review.")
    kind = RefusalKind.CONFLICT


class ApplicationNotEditable(FarmsError):
    default_message = _("You can change an application only when changes were asked for.")
    kind = RefusalKind.CONFLICT


class CannotApplyForCooperative(FarmsError):
    default_message = _(
        "This account cannot apply for a co-operative: it already belongs to one, or its role "
        "is a staff role."
    )
    kind = RefusalKind.CONFLICT


class ReviewReasonRequired(FarmsError):
    default_message = _("Tell the applicant why (at most 1000 characters).")
    field = "reason"


class LotHeld(FarmsError):
    """The lot has an open hold: the message is the hold's reason, so the counter, the
    marketplace and the shop tell the seller or buyer why."""

    default_message = _("This lot is held and may not be sold.")
    kind = RefusalKind.CONFLICT
    field = "lot"


class LotNotAdmitted(FarmsError):
    default_message = _(
        "This lot has not been checked in at the market's gate; it may not trade here yet."
    )
    kind = RefusalKind.CONFLICT
    field = "lot"
