"""Every write a listing allows: create from a lot, change, move between states, add a photo.

Who may: the farmer who works the lot's farm, a manager of her co-operative on her behalf,
a platform admin. The seller is always the lot's farmer, whoever listed it.

How much of a lot may be listed: a lot's quantity is shared by its listings. Each listing
holds its available quantity plus what its live orders took (placed and on to completed;
rejected, cancelled and expired orders gave theirs back), except that a closed listing no
longer holds what was left on it. Those holdings together never exceed the lot's quantity.
Orders only move kilograms between a listing's available quantity and its order lines, so
the sum changes only here, under a lock of the lot's row.
"""

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from moneyed import Money

from accounts.models import User
from accounts.notifications import notify
from common import geometry
from common.exceptions import InvalidLocation, InvalidTransition
from common.photos import process_photo
from farms.models import HarvestLot
from farms.selectors import lots_visible_to
from marketplace.choices import ListingStatus, OrderStatus
from marketplace.exceptions import (
    InvalidMinimumOrder,
    InvalidPickupPoint,
    InvalidPrice,
    InvalidQuantity,
    InvalidWindow,
    ListingClosed,
    ListingNotFound,
    LotNotAvailable,
    LotOverlisted,
    TooManyPhotos,
)
from marketplace.models import MAX_LISTING_KG, MAX_PRICE_PER_KG, Listing, ListingPhoto, OrderLine
from marketplace.selectors.listings import listings_visible_to


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = _Unchanged()
"""Default of update arguments: leave the stored value as it is."""

MAX_PHOTOS_PER_LISTING = 6
LISTING_PAUSED = "listing.paused"  # the live event a seller hears when her listing is paused
# Orders in these states gave their quantity back to the listing.
RELEASED_ORDER_STATUSES = (OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.EXPIRED)

# Seller's moves: action → (the states it starts from, the state it leads to).
LISTING_ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "publish": (frozenset({ListingStatus.DRAFT}), ListingStatus.ACTIVE),
    "pause": (frozenset({ListingStatus.ACTIVE, ListingStatus.SOLD_OUT}), ListingStatus.PAUSED),
    "resume": (frozenset({ListingStatus.PAUSED}), ListingStatus.ACTIVE),
    "close": (
        frozenset(
            {
                ListingStatus.DRAFT,
                ListingStatus.ACTIVE,
                ListingStatus.PAUSED,
                ListingStatus.SOLD_OUT,
            }
        ),
        ListingStatus.CLOSED,
    ),
}


# Input checks: each refusal names the field at fault.


def _decimal(value: Any, error: type[Exception]) -> Decimal:
    if isinstance(value, float | bool) or value is None:
        raise error()
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise error() from exc
    if not number.is_finite():
        raise error()
    return number


def _decimal_places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def clean_price_per_kg(value: Money | Decimal | str) -> Money:
    """A CNY price per kg: above zero, whole cents, at most MAX_PRICE_PER_KG."""
    if isinstance(value, Money):
        if str(value.currency) != "CNY":
            raise InvalidPrice(_("Prices are in yuan (CNY)."))
        value = value.amount
    amount = _decimal(value, InvalidPrice)
    if amount <= 0 or _decimal_places(amount) > 2:
        raise InvalidPrice()
    if amount > MAX_PRICE_PER_KG:
        raise InvalidPrice(
            _("A price per kg above %(max)s yuan is not believable; check it.")
            % {"max": MAX_PRICE_PER_KG}
        )
    return Money(amount.quantize(Decimal("0.01")), "CNY")


def _clean_kg(value: Any, error: type[Exception]) -> Decimal:
    kg = _decimal(value, error)
    if kg <= 0 or _decimal_places(kg) > 3 or kg > MAX_LISTING_KG:
        raise error()
    return kg.quantize(Decimal("0.001"))


def _check_minimum(*, minimum_order_kg: Decimal, available_kg: Decimal) -> None:
    if minimum_order_kg > available_kg:
        raise InvalidMinimumOrder(
            _("The minimum order (%(minimum)s kg) is more than the quantity (%(available)s kg).")
            % {"minimum": minimum_order_kg, "available": available_kg}
        )


def _check_window(*, available_from: datetime, available_until: datetime, now: datetime) -> None:
    if timezone.is_naive(available_from) or timezone.is_naive(available_until):
        raise InvalidWindow(_("Give the time with its time zone."))
    if available_until <= available_from:
        raise InvalidWindow(_("The listing must end after it starts."))
    if available_until <= now:
        raise InvalidWindow(_("The end of the listing is already past."))


def _clean_pickup_point(point: Point) -> Point:
    try:
        return geometry.validate_location(point)
    except InvalidLocation as exc:
        raise InvalidPickupPoint(exc.message) from exc


def _clean_notes(notes: str) -> str:
    notes = (notes or "").strip()
    if len(notes) > 300:
        raise InvalidQuantity(_("Use at most 300 characters."), field="notes")
    return notes


def pinyin_initials(name_zh: str) -> str:
    """黄瓜 → "hg": the first letter of each syllable; other characters are kept as typed."""
    # Imported on first use: pypinyin loads its phrase dictionary at import (about 0.5 s).
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(name_zh, style=Style.FIRST_LETTER, errors="default")).lower()[:60]


# The lot's shared quantity


def _kg_held_by_other_listings(*, lot_id: int, except_listing_id: int | None) -> Decimal:
    """What the lot's other listings hold: on offer (unless closed) plus their live orders."""
    others = Listing.objects.filter(lot_id=lot_id)
    if except_listing_id is not None:
        others = others.exclude(pk=except_listing_id)
    on_offer = others.exclude(status=ListingStatus.CLOSED).aggregate(
        kg=Coalesce(Sum("available_kg"), Decimal(0))
    )["kg"]
    return on_offer + _kg_ordered(listings=others)


def _kg_ordered(*, listings) -> Decimal:
    return OrderLine.objects.filter(
        Q(listing__in=listings.values("pk")), ~Q(order__status__in=RELEASED_ORDER_STATUSES)
    ).aggregate(kg=Coalesce(Sum(Coalesce("packed_kg", "quantity_kg")), Decimal(0)))["kg"]


def _check_lot_has(*, lot: HarvestLot, wanted_kg: Decimal, held_kg: Decimal) -> None:
    left_kg = max(lot.quantity_kg - held_kg, Decimal(0))
    if wanted_kg > left_kg:
        raise LotOverlisted(
            _("The lot has %(left)s kg left to list; you asked for %(wanted)s kg.")
            % {"left": left_kg, "wanted": wanted_kg}
        )


def _lock_lot(lot_id: int) -> HarvestLot:
    return (
        HarvestLot.objects.select_for_update(no_key=True, of=("self",))
        .select_related("farm", "product")
        .get(pk=lot_id)
    )


def _lock_listing(*, user: User, listing_id: int) -> Listing:
    """The listing, locked, if this user may change it; ListingNotFound otherwise."""
    listing = (
        listings_visible_to(user)
        .select_for_update(no_key=True, of=("self",))
        .filter(pk=listing_id)
        .first()
    )
    if listing is None:
        raise ListingNotFound()
    return listing


# Services


def create_listing(
    *,
    listed_by: User,
    lot: HarvestLot,
    price_per_kg: Money | Decimal,
    available_kg: Decimal,
    minimum_order_kg: Decimal,
    available_until: datetime,
    available_from: datetime | None = None,
    pickup_point: Point | None = None,
    notes: str = "",
    publish: bool = True,
    idempotency_key: str = "",
) -> Listing:
    """Offer quantity of a harvest lot for sale, on sale at once unless `publish` is False.

    The lot's farmer lists her own lot; a manager of her co-operative or an admin may list
    it for her. The listing copies the lot's product, grade, harvest date and
    certifications; it picks up at the farm unless another point is given. The quantity
    must fit in what the lot has left to list (module docstring).

    `idempotency_key` (made by the phone with the draft): a second call with the same key by
    the same person returns the listing the first one created, unchanged (a draft sent again
    after a lost answer); the lot's lock orders two such calls arriving together.
    """
    if idempotency_key and (replay := _listing_with_key(listed_by, idempotency_key)):
        return replay
    now = timezone.now()
    price = clean_price_per_kg(price_per_kg)
    available = _clean_kg(available_kg, InvalidQuantity)
    minimum = _clean_kg(minimum_order_kg, InvalidMinimumOrder)
    _check_minimum(minimum_order_kg=minimum, available_kg=available)
    available_from = available_from or now
    _check_window(available_from=available_from, available_until=available_until, now=now)
    notes = _clean_notes(notes)
    if pickup_point is not None:
        pickup_point = _clean_pickup_point(pickup_point)
    if lot is None or not lots_visible_to(listed_by).filter(pk=lot.pk).exists():
        raise LotNotAvailable()

    with transaction.atomic():
        lot = _lock_lot(lot.pk)
        if idempotency_key and (replay := _listing_with_key(listed_by, idempotency_key)):
            return replay
        _check_lot_has(
            lot=lot,
            wanted_kg=available,
            held_kg=_kg_held_by_other_listings(lot_id=lot.pk, except_listing_id=None),
        )
        return Listing.objects.create(  # type: ignore[misc]  # stubs type a MoneyField as its DecimalField base; it takes Money
            lot=lot,
            seller_id=lot.farm.farmer_id,
            listed_by=listed_by,
            product=lot.product,
            product_initials=pinyin_initials(lot.product.name_zh),
            grade=lot.grade,
            harvest_date=lot.harvest_date,
            certifications=list(lot.certifications),
            price_per_kg=price,
            available_kg=available,
            minimum_order_kg=minimum,
            available_from=available_from,
            available_until=available_until,
            pickup_point=pickup_point or lot.farm.location,
            notes=notes,
            status=ListingStatus.ACTIVE if publish else ListingStatus.DRAFT,
            idempotency_key=idempotency_key,
        )


def _listing_with_key(listed_by: User, key: str) -> Listing | None:
    return Listing.objects.filter(listed_by=listed_by, idempotency_key=key).first()


def update_listing(
    *,
    updated_by: User,
    listing_id: int,
    price_per_kg: Money | Decimal | _Unchanged = UNCHANGED,
    available_kg: Decimal | _Unchanged = UNCHANGED,
    minimum_order_kg: Decimal | _Unchanged = UNCHANGED,
    available_from: datetime | _Unchanged = UNCHANGED,
    available_until: datetime | _Unchanged = UNCHANGED,
    pickup_point: Point | _Unchanged = UNCHANGED,
    notes: str | _Unchanged = UNCHANGED,
) -> Listing:
    """Change a listing's price, quantity, minimum, window, pickup point or notes.

    Only who may list the lot may. A closed listing does not change. A new price applies
    to orders placed from now on; orders already placed keep theirs. Setting the quantity
    re-checks the lot's share (module docstring) and sells out or re-opens the listing.
    """
    changes: dict[str, Any] = {}
    if not isinstance(price_per_kg, _Unchanged):
        changes["price_per_kg"] = clean_price_per_kg(price_per_kg)
    if not isinstance(available_kg, _Unchanged):
        # Zero is allowed here: it sells the listing out.
        kg = _decimal(available_kg, InvalidQuantity)
        changes["available_kg"] = Decimal("0.000") if kg == 0 else _clean_kg(kg, InvalidQuantity)
    if not isinstance(minimum_order_kg, _Unchanged):
        changes["minimum_order_kg"] = _clean_kg(minimum_order_kg, InvalidMinimumOrder)
    if not isinstance(pickup_point, _Unchanged):
        changes["pickup_point"] = _clean_pickup_point(pickup_point)
    if not isinstance(notes, _Unchanged):
        changes["notes"] = _clean_notes(notes)

    with transaction.atomic():
        # Lock order: the lot, then the listing (as create_listing, so no deadlock).
        lot_id = listings_visible_to(updated_by).filter(pk=listing_id).values("lot_id").first()
        if lot_id is None:
            raise ListingNotFound()
        lot = _lock_lot(lot_id["lot_id"])
        listing = _lock_listing(user=updated_by, listing_id=listing_id)
        if listing.status == ListingStatus.CLOSED:
            raise ListingClosed()

        window_changed = not isinstance(available_from, _Unchanged) or not isinstance(
            available_until, _Unchanged
        )
        if not isinstance(available_from, _Unchanged):
            changes["available_from"] = available_from
        if not isinstance(available_until, _Unchanged):
            changes["available_until"] = available_until
        if window_changed:
            _check_window(
                available_from=changes.get("available_from", listing.available_from),
                available_until=changes.get("available_until", listing.available_until),
                now=timezone.now(),
            )
        if "available_kg" in changes:
            _check_lot_has(
                lot=lot,
                wanted_kg=changes["available_kg"],
                held_kg=_kg_held_by_other_listings(lot_id=lot.pk, except_listing_id=listing.pk)
                + _kg_ordered(listings=Listing.objects.filter(pk=listing.pk)),
            )
        new_available = changes.get("available_kg", listing.available_kg)
        new_minimum = changes.get("minimum_order_kg", listing.minimum_order_kg)
        if new_available > 0 and ("available_kg" in changes or "minimum_order_kg" in changes):
            _check_minimum(minimum_order_kg=new_minimum, available_kg=new_available)

        for name, value in changes.items():
            setattr(listing, name, value)
        if "available_kg" in changes:
            if new_available == 0 and listing.status == ListingStatus.ACTIVE:
                listing.move_to(ListingStatus.SOLD_OUT)
            elif new_available > 0 and listing.status == ListingStatus.SOLD_OUT:
                listing.move_to(ListingStatus.ACTIVE)
        listing.save(update_fields=[*changes, "status", "updated_at"])
    return listing


def change_listing_status(*, changed_by: User, listing_id: int, action: str) -> Listing:
    """publish (draft → on sale), pause, resume (paused → on sale) or close a listing.

    Only who may change the listing may. Publishing or resuming needs the window not to be
    over; one with nothing left goes to sold out instead of on sale. Closing is final.
    """
    if action not in LISTING_ACTIONS:
        raise InvalidTransition(_("Unknown action."), requested=action)
    starts_from, target = LISTING_ACTIONS[action]
    with transaction.atomic():
        listing = _lock_listing(user=changed_by, listing_id=listing_id)
        if listing.status not in starts_from:
            raise InvalidTransition(current=listing.status, requested=target)
        if target == ListingStatus.ACTIVE:
            if listing.available_until <= timezone.now():
                raise InvalidWindow(
                    _("The listing's time is over; set a new end before putting it on sale.")
                )
            if listing.available_kg == 0:
                target = ListingStatus.SOLD_OUT
        listing.move_to(target)
        listing.save(update_fields=["status", "updated_at"])
    return listing


def _room_for_a_photo(listing: Listing) -> int:
    """How many photos the listing has, if it may take one more; refused when closed or full."""
    if listing.status == ListingStatus.CLOSED:
        raise ListingClosed()
    count = listing.photos.count()
    if count >= MAX_PHOTOS_PER_LISTING:
        raise TooManyPhotos(
            _("A listing has at most %(count)s photos.") % {"count": MAX_PHOTOS_PER_LISTING}
        )
    return count


def add_listing_photo(
    *, added_by: User, listing_id: int, upload, idempotency_key: str = ""
) -> ListingPhoto:
    """Add a photo to a listing: checked to be an image, resized, stripped of EXIF/GPS.

    Only who may change the listing may, up to MAX_PHOTOS_PER_LISTING. A refused upload
    leaves nothing behind, neither a row nor a file. Who may and how many are checked before
    the upload is even read, and its size before it is decoded: decoding is the costly part
    (a phone photo is tens of megabytes of pixels).

    A photo with the `idempotency_key` of one the listing has already is that photo (the
    same form sent twice), returned without storing it again.
    """
    listing = listings_visible_to(added_by).filter(pk=listing_id).first()
    if listing is None:
        raise ListingNotFound()
    if idempotency_key and (replay := listing.photos.filter(idempotency_key=idempotency_key)):
        return replay.get()
    _room_for_a_photo(listing)
    processed = process_photo(upload)  # refuses before anything is stored
    with transaction.atomic():
        listing = _lock_listing(user=added_by, listing_id=listing_id)
        if idempotency_key and (replay := listing.photos.filter(idempotency_key=idempotency_key)):
            return replay.get()
        count = _room_for_a_photo(listing)  # again under the lock: another may have landed
        photo = ListingPhoto(
            listing=listing,
            width=processed.width,
            height=processed.height,
            position=count,
            idempotency_key=idempotency_key,
        )
        photo.image.save(f"{processed.stem}.jpg", ContentFile(processed.image), save=False)
        photo.thumbnail.save(f"{processed.stem}.jpg", ContentFile(processed.thumbnail), save=False)
        # The files are written before the row; if the row cannot be saved, remove them.
        try:
            photo.save()
        except Exception:
            photo.image.delete(save=False)
            photo.thumbnail.delete(save=False)
            raise
    return photo


def pause_listings_of_lot(*, lot: HarvestLot, reason: str, by: User | None) -> list[Listing]:
    """Take every listing of the lot that is on sale off sale (paused), e.g. for a recall,
    and tell each seller why; the seller resumes them herself once the lot may be sold again.

    Rules: only listings on sale move (drafts, paused, sold-out and closed ones stay as they
    are: none of them can be ordered, and the lot's hold refuses orders meanwhile). Call it in
    the caller's transaction, after locking the lot's row (a lot before its listings).
    """
    with transaction.atomic():
        listings = list(
            Listing.objects.select_for_update(no_key=True, of=("self",))
            .filter(lot_id=lot.pk, status=ListingStatus.ACTIVE)
            .select_related("seller")
            .order_by("id")
        )
        for listing in listings:
            listing.move_to(ListingStatus.PAUSED)
            listing.save(update_fields=["status", "updated_at"])
            notify(
                user=listing.seller,
                kind=LISTING_PAUSED,
                title=_("Listing of lot %(lot)s paused") % {"lot": lot.lot_code},
                body=str(reason),
                url=reverse("marketplace:my_listings"),
                payload={"listing_id": listing.pk, "lot_id": lot.pk, "by": by.pk if by else None},
            )
    return listings
