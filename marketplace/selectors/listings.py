"""Reads of listings: buyers' search, a seller's own listings, and who may see which.

Visibility: every signed-in user may find listings on sale (active, inside their window,
with at least a minimum order left) and open one that is on sale or sold out. A farmer
sees and changes all of her own listings; a manager of her co-operative sees and changes
the members'; a platform admin all of them.
"""

from datetime import date, datetime
from decimal import Decimal

from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import User
from accounts.permissions import is_admin
from farms.selectors import everywhere_hold_reason, farms_visible_to, held_everywhere
from marketplace.choices import ListingStatus
from marketplace.models import Listing, ListingPhoto
from marketplace.selectors.pickup import approximate_distance_to


def with_display_facts(listings: QuerySet[Listing]) -> QuerySet[Listing]:
    """Product, farm and co-operative names, the first photo's thumbnail and `held_reason`
    (why the lot is held everywhere, None when it is not), in one query."""
    first_thumbnail = (
        ListingPhoto.objects.filter(listing=OuterRef("pk"))
        .order_by("position", "id")
        .values("thumbnail")[:1]
    )
    return listings.select_related("product").annotate(
        farm_name=F("lot__farm__name"),
        cooperative_name=F("lot__farm__cooperative__name"),
        thumbnail_name=Subquery(first_thumbnail),
        held_reason=everywhere_hold_reason(),
    )


def listings_for_buyers(*, at: datetime | None = None) -> QuerySet[Listing]:
    """Listings on sale now: active, inside their window, with a minimum order left, and of a
    lot not held everywhere (a buyer never finds a recalled lot as buyable).

    Plain rows of the listing table, for filtering, counting and paging; the page's
    display facts come after, from `display_facts_for(page)`.
    """
    at = at or timezone.now()
    listings = Listing.objects.filter(
        status=ListingStatus.ACTIVE,
        available_from__lte=at,
        available_until__gt=at,
        available_kg__gte=F("minimum_order_kg"),
    ).exclude(held_everywhere())
    return listings.order_by("-harvest_date", "-id")


def listings_near(
    listings: QuerySet[Listing], *, point: Point, radius_km: Decimal | float | None = None
) -> QuerySet[Listing]:
    """Each with its geodesic `distance` from the point and the `approximate_distance` shown
    to those who may not see the exact point; only those within radius_km when one is given
    (without, every listing, however far: the caller sorts them nearest first)."""
    if radius_km is not None:
        listings = listings.filter(pickup_point__dwithin=(point, D(km=radius_km)))
    return listings.annotate(
        distance=Distance("pickup_point", point),
        approximate_distance=approximate_distance_to(point),
    )


def listings_named(listings: QuerySet[Listing], words: str) -> QuerySet[Listing]:
    """Every word in the product's Chinese or English name, or its pinyin initials ("hg")."""
    for word in words.split()[:5]:
        listings = listings.filter(
            Q(product__name_zh__icontains=word)
            | Q(product__name_en__icontains=word)
            | Q(product_initials__startswith=word.lower())
        )
    return listings


def listings_with_certification(listings: QuerySet[Listing], certification: str):
    return listings.filter(certifications__contains=[certification])


def listings_harvested_since(listings: QuerySet[Listing], since: date) -> QuerySet[Listing]:
    return listings.filter(harvest_date__gte=since)


def listings_visible_to(user: User) -> QuerySet[Listing]:
    """Listings this user may see in full and change: her own, her co-op's, or all."""
    if is_admin(user):
        return Listing.objects.all()
    if not (user and user.is_authenticated and user.is_active):
        return Listing.objects.none()
    return Listing.objects.filter(lot__farm__in=farms_visible_to(user).values("pk"))


def seller_listings_for(user: User) -> QuerySet[Listing]:
    """The user's listings in every state, newest first."""
    return listings_visible_to(user).order_by("-created_at", "-id")


def display_facts_for(page: list[Listing]) -> list[Listing]:
    """The page's listings again, in its order, with what a result shows (one query).

    Search finds and pages listings on the listing table alone, then joins products,
    farms and co-operatives for these twenty rows only: PostgreSQL underestimates how
    many listings lie within a radius, and a join planned for one row is slow for hundreds.
    """
    shown = with_display_facts(Listing.objects.filter(pk__in=[row.pk for row in page]).order_by())
    by_id = {listing.pk: listing for listing in shown}
    listings = []
    for row in page:
        listing = by_id[row.pk]
        if hasattr(row, "distance") and hasattr(row, "approximate_distance"):
            # The page's distance annotations, carried over to the full row.
            vars(listing).update(
                distance=row.distance, approximate_distance=row.approximate_distance
            )
        listings.append(listing)
    return listings


def listings_for_viewer(user: User) -> QuerySet[Listing]:
    """Listings this user may open: on sale or sold out for anyone, all states for sellers."""
    listings = Listing.objects.filter(
        Q(status__in=[ListingStatus.ACTIVE, ListingStatus.SOLD_OUT])
        | Q(pk__in=listings_visible_to(user).values("pk"))
    )
    return with_display_facts(listings)
