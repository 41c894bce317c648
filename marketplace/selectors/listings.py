"""Reads of listings: buyers' search, a seller's own listings, and who may see which.

Visibility: every signed-in user may find listings on sale (active, inside their window,
with at least a minimum order left) and open one that is on sale or sold out. A farmer
sees and changes all of her own listings; a manager of her co-operative sees and changes
the members'; a platform admin all of them.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.db import connection
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import User
from accounts.permissions import is_admin
from farms.models import Cooperative, Farm, HarvestLot, LotHold, Product
from farms.selectors import everywhere_hold_reason, farms_visible_to, held_everywhere
from marketplace.choices import ListingStatus
from marketplace.models import Listing, ListingPhoto, Order, OrderLine
from marketplace.selectors.pickup import (
    ORDERS_SHOWING_EXACT_POINT,
    approximate_distance_to,
    approximate_lon_lat,
    exact_pickup_beyond_orders,
)


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


@dataclass(frozen=True)
class Found:
    """A listing a search found: its id, and its distances from `near` in metres (exact, and
    from the snapped point; None without `near`)."""

    id: int
    distance_m: float | None = None
    approximate_distance_m: float | None = None


@dataclass(frozen=True)
class SearchResult:
    """A search result as the viewer may see it: plain values read in one query, no model
    rows (a page of 20 is the busiest read of the market). `pickup` and `distance_m` are
    exact or snapped per `marketplace.selectors.pickup`."""

    id: int
    status: str
    product_code: str
    product_name_zh: str
    product_name_en: str
    category: str
    grade: str
    certifications: list[str]
    harvest_date: date
    price_per_kg: Decimal
    currency: str
    available_kg: Decimal
    minimum_order_kg: Decimal
    available_from: datetime
    available_until: datetime
    pickup: tuple[float, float]
    distance_m: float | None
    lot_id: int
    seller_id: int
    farm_name: str
    cooperative_name: str
    thumbnail_name: str | None
    notes: str
    held_reason: str | None


_LISTING = Listing._meta.db_table
_PHOTO = ListingPhoto._meta.db_table
_LINE = OrderLine._meta.db_table
_ORDER = Order._meta.db_table
_PRODUCT = Product._meta.db_table
_LOT = HarvestLot._meta.db_table
_FARM = Farm._meta.db_table
_COOPERATIVE = Cooperative._meta.db_table
_HOLD = LotHold._meta.db_table

# What a page of results shows, for its ids in their order: `with_display_facts` written
# once more as one plain statement (a search page is the busiest read of the market, and
# building the ORM's query cost more than running it), with whether the viewer bought it
# (an accepted order shows the exact pickup point, `selectors.pickup`).
# tests/marketplace/test_search.py checks a result reads as the listing's own page does.
SEARCH_RESULTS_SQL = f"""
SELECT l.id, l.status, p.code, p.name_zh, p.name_en, p.category, l.grade, l.certifications,
       l.harvest_date, l.price_per_kg, l.price_per_kg_currency, l.available_kg,
       l.minimum_order_kg, l.available_from, l.available_until,
       ST_X(l.pickup_point::geometry), ST_Y(l.pickup_point::geometry),
       l.lot_id, l.seller_id, f.name, c.name,
       (SELECT ph.thumbnail FROM {_PHOTO} ph
         WHERE ph.listing_id = l.id ORDER BY ph.position, ph.id LIMIT 1),
       l.notes,
       (SELECT h.reason FROM {_HOLD} h
         WHERE h.lot_id = l.lot_id AND h.market_id IS NULL AND h.released_at IS NULL
         ORDER BY h.placed_at, h.id LIMIT 1),
       EXISTS (SELECT 1 FROM {_LINE} ol JOIN {_ORDER} o ON o.id = ol.order_id
                WHERE ol.listing_id = l.id AND o.buyer_id = %(viewer)s
                  AND o.status = ANY(%(showing)s))
  FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS page(id, n)
  JOIN {_LISTING} l ON l.id = page.id
  JOIN {_PRODUCT} p ON p.id = l.product_id
  JOIN {_LOT} lot ON lot.id = l.lot_id
  JOIN {_FARM} f ON f.id = lot.farm_id
  JOIN {_COOPERATIVE} c ON c.id = f.cooperative_id
 ORDER BY page.n
"""


def search_results(found: list[Found], *, viewer: User) -> list[SearchResult]:
    """What each found listing shows this viewer, in the order found: one query for a buyer
    (two for a seller, whose own listings show their exact pickup point too)."""
    if not found:
        return []
    ids = [row.id for row in found]
    with connection.cursor() as cursor:
        cursor.execute(
            SEARCH_RESULTS_SQL,
            {
                "ids": ids,
                "viewer": viewer.pk if viewer and viewer.is_authenticated else None,
                "showing": list(ORDERS_SHOWING_EXACT_POINT),
            },
        )
        rows = cursor.fetchall()
    by_id = {row[0]: row for row in rows}
    sees_all, own = exact_pickup_beyond_orders(viewer, ids)
    results = []
    for place in found:
        if place.id not in by_id:
            continue  # deleted since it was found
        (id_, status, code, name_zh, name_en, category, grade, certifications, harvested,
         price, currency, available_kg, minimum_kg, available_from, available_until,
         longitude, latitude, lot_id, seller_id, farm, cooperative, thumbnail, notes,
         held_reason, ordered) = by_id[place.id]  # fmt: skip
        exact = sees_all or ordered or place.id in own
        results.append(
            SearchResult(
                id=id_,
                status=status,
                product_code=code,
                product_name_zh=name_zh,
                product_name_en=name_en,
                category=category,
                grade=grade,
                certifications=certifications,
                harvest_date=harvested,
                price_per_kg=price,
                currency=currency,
                available_kg=available_kg,
                minimum_order_kg=minimum_kg,
                available_from=available_from,
                available_until=available_until,
                pickup=(longitude, latitude) if exact else approximate_lon_lat(longitude, latitude),
                distance_m=place.distance_m if exact else place.approximate_distance_m,
                lot_id=lot_id,
                seller_id=seller_id,
                farm_name=farm,
                cooperative_name=cooperative,
                thumbnail_name=thumbnail,
                notes=notes,
                held_reason=held_reason,
            )
        )
    return results


def listings_for_viewer(user: User) -> QuerySet[Listing]:
    """Listings this user may open: on sale or sold out for anyone, all states for sellers."""
    listings = Listing.objects.filter(
        Q(status__in=[ListingStatus.ACTIVE, ListingStatus.SOLD_OUT])
        | Q(pk__in=listings_visible_to(user).values("pk"))
    )
    return with_display_facts(listings)
