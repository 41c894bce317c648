"""Refusals of the marketplace, one class each, with the kind of refusal where it is not
"invalid". A move its transition table refuses is common.exceptions.InvalidTransition."""

from django.utils.translation import gettext_lazy as _

from common.exceptions import ConflictError, DomainError, RefusalKind
from settlement.exceptions import InvalidAmount, SettlementError, yuan


class MarketplaceError(DomainError):
    default_message = _("The marketplace request was refused.")


# --- Orders -------------------------------------------------------------------------------


class OrderError(MarketplaceError):
    default_message = _("The order was refused.")


class OrderLineError(OrderError):
    """A refusal about one line of an order: the API names the field and the line's index."""

    field = "quantity_kg"

    def __init__(self, message=None, *, line: int, field: str | None = None, **details):
        self.line = line
        super().__init__(message, field=field, line=line, **details)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "line": self.line}


class InvalidOrderQuantity(OrderLineError):
    default_message = _("Enter a quantity above zero, in kg with at most 3 decimals.")


class InsufficientQuantity(OrderLineError):
    default_message = _("Not that much is left: %(available)s kg is available.")

    def __init__(self, *, line: int, listing_id: int, requested_kg, available_kg):
        super().__init__(
            self.default_message % {"available": available_kg},
            line=line,
            listing_id=listing_id,
            requested_kg=requested_kg,
            available_kg=available_kg,
        )


class BelowMinimumOrder(OrderLineError):
    default_message = _("The minimum order for this listing is %(minimum)s kg.")

    def __init__(self, *, line: int, listing_id: int, minimum_kg):
        super().__init__(
            self.default_message % {"minimum": minimum_kg},
            line=line,
            listing_id=listing_id,
            minimum_kg=minimum_kg,
        )


class ListingNotAvailable(OrderLineError):
    """Draft, paused, closed, sold out or outside its window, or no such listing."""

    default_message = _("This listing is not on sale now.")
    field = "listing_id"


class ListingLotHeld(OrderLineError):
    """The listing's lot has an open hold that applies everywhere (a recall, a confirmed
    positive test): the message is the hold's reason."""

    default_message = _("This lot is held and may not be sold.")
    field = "listing_id"
    kind = RefusalKind.CONFLICT


class DuplicateOrderLine(OrderLineError):
    default_message = _("Each listing may appear only once in an order.")
    field = "listing_id"


class MixedSellers(OrderError):
    default_message = _("An order takes listings of one seller only; place one order per seller.")
    field = "lines"


class EmptyOrder(OrderError):
    default_message = _("Add at least one line to the order.")
    field = "lines"


class OwnListing(OrderError):
    default_message = _("You cannot order your own produce.")
    field = "lines"


class OrderNotYours(OrderError):
    """The order is visible to this user, but this step belongs to the other side ."""

    default_message = _("This step is not yours to take on this order.")
    kind = RefusalKind.FORBIDDEN


class OrderExpired(OrderError):
    default_message = _("The order was not accepted in time and has expired.")
    kind = RefusalKind.CONFLICT


class InvalidPackedWeights(OrderError):
    default_message = _("Enter the packed weight of every line, above zero, in kg.")
    field = "packed_kg"


# Listings


class InvalidPrice(MarketplaceError):
    default_message = _("Enter a price per kg above zero, with at most two decimals.")
    field = "price_per_kg"


class InvalidQuantity(MarketplaceError):
    default_message = _("Enter a quantity above zero, in kg with at most three decimals.")
    field = "available_kg"


class InvalidMinimumOrder(MarketplaceError):
    default_message = _("The minimum order must be above zero and no more than the quantity.")
    field = "minimum_order_kg"


class LotOverlisted(MarketplaceError):
    default_message = _("This is more than the lot has left to list.")
    field = "available_kg"


class InvalidWindow(MarketplaceError):
    default_message = _("The listing must end after it starts, and not in the past.")
    field = "available_until"


class InvalidPickupPoint(MarketplaceError):
    default_message = _("Enter a pickup point in China as longitude,latitude.")
    field = "pickup_point"


class LotNotAvailable(MarketplaceError):
    default_message = _("Choose a harvest lot of one of your farms.")
    field = "lot"


class ListingNotFound(MarketplaceError):
    """The listing does not exist or is not the user's to change: one answer for both, never
    confirming it exists."""

    default_message = _("No such listing.")
    kind = RefusalKind.NOT_FOUND


class ListingClosed(MarketplaceError):
    default_message = _("This listing is closed and can no longer change.")
    kind = RefusalKind.CONFLICT


class TooManyPhotos(MarketplaceError):
    default_message = _("This listing has as many photos as it may have.")
    field = "image"
    kind = RefusalKind.CONFLICT


class InvalidWeightTolerance(OrderError):
    default_message = _("Enter a weight tolerance between 0 and 50 %, with at most 1 decimal.")
    field = "weight_tolerance_pct"


# --- Wholesale markets (their money moves through settlement's ledger) ---------------------


class MarketError(SettlementError, MarketplaceError):
    """A refusal at a wholesale market: a settlement refusal and a marketplace one."""


class AmountBelowOneCent(InvalidAmount, MarketError):
    default_message = _("This weight at this price comes to less than one cent.")
    field = "unit_price"


class UnknownCard(MarketError):
    default_message = _("No trader of this market has this card number.")
    field = "card_number"


class InactiveTrader(MarketError):
    default_message = _("This trader's card is suspended.")
    field = "card_number"


class WrongTraderKind(MarketError):
    default_message = _("This card belongs to a trader of the other side.")
    field = "card_number"


class InvalidWeight(MarketError):
    default_message = _("Enter a weight above zero in kg, with at most three decimals.")
    field = "gross_kg"


class TareAboveGross(MarketError):
    default_message = _("The tare must be less than the gross weight.")
    field = "tare_kg"


class InvalidUnitPrice(MarketError):
    default_message = _("Enter a price per kg above zero, with at most two decimals.")
    field = "unit_price"


class InvalidProduct(MarketError):
    default_message = _("Choose a product from the catalogue, and a lot of that product.")
    field = "product"


class LotRequired(MarketError):
    """The market checks every lot at its gate (Market.entry_check_required): a trade names
    the lot it sells, so the counter can see that it was checked in and is not held."""

    default_message = _("This market checks lots at its gate: enter the lot code of the trade.")
    field = "lot"


class BusinessDayClosed(ConflictError, MarketError):
    default_message = _("The business day %(date)s is closed; no more trades can be recorded.")

    def __init__(self, *, business_date):
        super().__init__(self.default_message % {"date": business_date}, date=business_date)


class ReasonRequired(MarketError):
    default_message = _("Say why the trade is reversed.")
    field = "reason"


class NotMarketStaff(MarketError):
    """The user does not work for this market, or is not a supervisor where one is needed."""

    default_message = _("Only the market's supervisors may do this.")
    kind = RefusalKind.FORBIDDEN


# --- Maker–checker at the counter (marketplace/markets/funding.py, drawers.py) -------------


class AboveOperatorLimit(MarketError):
    default_message = _(
        "This is above your limit of %(limit)s per top-up; a supervisor can top up more."
    )
    field = "amount"

    def __init__(self, *, limit):
        super().__init__(self.default_message % {"limit": yuan(limit)}, limit=limit)


class AboveOperatorDailyLimit(MarketError):
    default_message = _(
        "This would take your top-ups today past your daily limit of %(limit)s (%(used)s so far)."
    )
    field = "amount"

    def __init__(self, *, limit, used):
        super().__init__(
            self.default_message % {"limit": yuan(limit), "used": yuan(used)},
            limit=limit,
            used=used,
        )


class FundingRequestNotFound(MarketError):
    """No such request at the operator's market: 404, never confirming it exists elsewhere."""

    default_message = _("No such request.")
    kind = RefusalKind.NOT_FOUND


class OwnFundingRequest(MarketError):
    default_message = _(
        "You made this request yourself; another supervisor must approve or decline it."
    )
    kind = RefusalKind.FORBIDDEN


class RequestAlreadyDecided(ConflictError, MarketError):
    default_message = _("This request has already been decided: %(status)s.")

    def __init__(self, *, status_label):
        super().__init__(self.default_message % {"status": status_label})


class DeclineReasonRequired(MarketError):
    default_message = _("Say why the request is declined.")
    field = "reason"


class InvalidDrawerCount(MarketError):
    default_message = _("Enter the cash counted: zero or more, with at most two decimals.")
    field = "counted"


class DrawerDayNotBegun(MarketError):
    default_message = _("A drawer is counted on its business day or later, never ahead.")
    field = "business_date"


class DrawerAlreadyCounted(ConflictError, MarketError):
    default_message = _("This drawer was already counted for %(date)s: %(counted)s.")
    field = "counted"

    def __init__(self, *, business_date, counted):
        super().__init__(
            self.default_message % {"date": business_date, "counted": yuan(counted)},
            date=business_date,
        )


class DrawerCounted(ConflictError, MarketError):
    default_message = _(
        "The cash drawer of this operator is already counted for %(date)s; no more cash "
        "goes through it that day."
    )

    def __init__(self, *, business_date):
        super().__init__(self.default_message % {"date": business_date}, date=business_date)


class StaffNotFound(MarketError):
    default_message = _("No such operator at this market.")
    field = "operator"
    kind = RefusalKind.NOT_FOUND


# --- Card applications (marketplace/markets/cards.py) --------------------------------------


class CardApplicationError(MarketplaceError):
    default_message = _("The card application was refused.")


class MarketNotTakingApplications(CardApplicationError):
    """No such market, or it takes no applications: one answer for both."""

    default_message = _("Choose a market that takes card applications.")
    field = "market"


class NotABuyerAccount(CardApplicationError):
    default_message = _("Only a restaurant's or a shop's account may apply for a buyer's card.")
    kind = RefusalKind.FORBIDDEN


class CardApplicationPending(CardApplicationError):
    default_message = _("You have already applied to this market; wait for its answer.")
    field = "market"


class CardAlreadyHeld(CardApplicationError):
    default_message = _("You already hold a buyer's card at this market.")
    field = "market"


class CardApplicationNotFound(CardApplicationError):
    """No such application at the operator's market: 404, never confirming it exists."""

    default_message = _("No such card application.")
    kind = RefusalKind.NOT_FOUND


class CardApplicationDecided(ConflictError, CardApplicationError):
    default_message = _("This application has already been decided: %(status)s.")

    def __init__(self, *, status_label):
        super().__init__(self.default_message % {"status": status_label})


class CardNumberTaken(CardApplicationError):
    default_message = _("Another trader already holds this card number.")
    field = "card_number"


class InvalidCardNumber(CardApplicationError):
    default_message = _("A card number has 8 to 19 digits.")
    field = "card_number"


class DeclineReasonMissing(CardApplicationError):
    default_message = _("Say why the application is declined; the applicant reads it.")
    field = "reason"


class InvalidCardApplication(CardApplicationError):
    """A field of the application is missing or malformed; `field` names it."""

    default_message = _("Fill in this field.")
