"""Reads of couriers joining a warehouse: its invitations and its couriers by status, and the
invitation an SMS link opens.

Visibility: a warehouse manager sees her own warehouse's invitations and couriers (those
whose usual warehouse it is), a platform admin those of the warehouse she picks; another
warehouse's are simply not found.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from accounts.links import token_hash

from ..models import (
    Courier,
    CourierInvitation,
    CourierInvitationStatus,
    CourierStatus,
    FrontWarehouse,
)


def open_invitation_for_link(token: str, *, now: datetime) -> CourierInvitation | None:
    """The pending, unexpired invitation whose SMS link carries `token`; None for anything
    else (unknown, replaced by a resend, answered, cancelled or expired)."""
    if not token or len(token) > 100:
        return None
    invitation = (
        CourierInvitation.objects.select_related("warehouse")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if invitation is None or not invitation.is_open_at(now):
        return None
    return invitation


def invitations_of(warehouse: FrontWarehouse) -> QuerySet[CourierInvitation]:
    """Every invitation of the warehouse (what a manager may act on by id)."""
    return CourierInvitation.objects.filter(warehouse=warehouse)


def pending_invitations_of(warehouse: FrontWarehouse, *, now: datetime) -> list[CourierInvitation]:
    """Invitations still waiting for an answer, newest first (expired ones are left out)."""
    return list(
        invitations_of(warehouse)
        .filter(status=CourierInvitationStatus.PENDING, expires_at__gt=now)
        .order_by("-created_at", "-pk")
    )


def couriers_of(warehouse: FrontWarehouse) -> QuerySet[Courier]:
    """The couriers whose usual warehouse it is, whatever their status."""
    return Courier.objects.filter(home_warehouse=warehouse).select_related("user")


@dataclass(frozen=True)
class WarehouseCouriers:
    waiting: list[Courier]
    active: list[Courier]
    deactivated: list[Courier]


def warehouse_couriers(warehouse: FrontWarehouse) -> WarehouseCouriers:
    """The warehouse's couriers in the manager's three lists, each by name."""
    by_status: dict[str, list[Courier]] = {status: [] for status in CourierStatus.values}
    for courier in couriers_of(warehouse).order_by("user__display_name", "pk"):
        by_status[courier.status].append(courier)
    return WarehouseCouriers(
        waiting=by_status[CourierStatus.WAITING],
        active=by_status[CourierStatus.ACTIVE],
        deactivated=by_status[CourierStatus.DEACTIVATED],
    )
