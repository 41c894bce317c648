"""Farms on the map: adding and changing a member's farm. Each public function is one
transaction."""

from typing import Final

from django.contrib.gis.geos import Point, Polygon
from django.db import IntegrityError, transaction

from accounts.choices import Role
from accounts.models import User
from common import geometry

from .. import selectors
from ..exceptions import (
    BoundaryOrLocationRequired,
    FarmerNotMember,
    FarmNameTaken,
    FarmNotAvailable,
)
from ..models import Cooperative, Farm, Membership
from .cleaning import clean_name, violated_constraint


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = _Unchanged()
"""Default of update arguments: leave the stored value as it is."""


def _resolve_location(
    *, boundary: Polygon | None, location: Point | None, current: Point | None = None
) -> Point:
    """The given location; else the current one while it lies on the boundary; else a
    point on the boundary's surface (inside it, unlike a centroid of an odd shape)."""
    if location is not None:
        return location
    if boundary is None:
        if current is not None:
            return current
        raise BoundaryOrLocationRequired
    if current is not None and boundary.intersects(current):
        return current
    point = boundary.point_on_surface
    point.srid = 4326
    return point


def create_farm(
    *,
    created_by: User,
    farmer: User,
    name: str,
    boundary: Polygon | None = None,
    location: Point | None = None,
) -> Farm:
    """Add a farm worked by a member of a co-operative, in her co-operative.

    The farmer adds her own; a manager adds one for a member of her co-operative. The
    location defaults to a point on the boundary; one of the two is required.
    """
    name = clean_name(name, field="name", max_length=120)
    if boundary is not None:
        boundary = geometry.validate_boundary(boundary)
    if location is not None:
        location = geometry.validate_location(location)
    with transaction.atomic():
        cooperative = _cooperative_of_farmer(farmer)
        if not (
            (created_by.pk == farmer.pk and created_by.is_active)
            or selectors.manages_cooperative(created_by, cooperative)
        ):
            raise FarmerNotMember
        farm = Farm(
            cooperative=cooperative,
            farmer=farmer,
            name=name,
            boundary=boundary,
            location=_resolve_location(boundary=boundary, location=location),
        )
        _save_farm(farm)
    return farm


def _cooperative_of_farmer(farmer: User) -> Cooperative:
    membership = Membership.objects.filter(user=farmer).select_related("cooperative").first()
    if membership is None or farmer.role != Role.FARMER or not farmer.is_active:
        raise FarmerNotMember
    return membership.cooperative


def _save_farm(farm: Farm) -> None:
    try:
        with transaction.atomic():
            farm.save()
    except IntegrityError as exc:
        if violated_constraint(exc) == "farm_name_unique_per_farmer":
            raise FarmNameTaken from exc
        raise
    # The database computes the area from the boundary.
    farm.refresh_from_db(fields=["area_hectares"])


def update_farm(
    *,
    updated_by: User,
    farm_id: int,
    name: str | _Unchanged = UNCHANGED,
    boundary: Polygon | _Unchanged | None = UNCHANGED,
    location: Point | _Unchanged | None = UNCHANGED,
) -> Farm:
    """Change a farm's name, boundary or location: by its farmer or her co-op's manager.

    With a new boundary and no new location, the location stays while it lies on the
    boundary and moves to a point on it otherwise. Clearing the location re-derives it.
    """
    if not isinstance(name, _Unchanged):
        name = clean_name(name, field="name", max_length=120)
    if isinstance(boundary, Polygon):
        boundary = geometry.validate_boundary(boundary)
    if isinstance(location, Point):
        location = geometry.validate_location(location)
    with transaction.atomic():
        farm = (
            selectors.farms_visible_to(updated_by)
            .select_for_update(of=("self",))
            .filter(pk=farm_id)
            .first()
        )
        if farm is None:
            raise FarmNotAvailable
        if not isinstance(name, _Unchanged):
            farm.name = name
        if not isinstance(boundary, _Unchanged):
            farm.boundary = boundary
        if not isinstance(location, _Unchanged) or not isinstance(boundary, _Unchanged):
            farm.location = _resolve_location(
                boundary=farm.boundary,
                location=None if isinstance(location, _Unchanged) else location,
                current=farm.location if isinstance(location, _Unchanged) else None,
            )
        _save_farm(farm)
    return farm
