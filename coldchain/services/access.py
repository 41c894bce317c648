"""Who may act in the cold chain, a domain rule checked by the services so every door enforces
it: a controller (or admin) anywhere; a co-operative manager at her co-operative's sites; a
market operator at her market's. A refusal of that kind is PermissionDenied (forbidden)."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import User
from farms.selectors import cooperative_managed_by
from marketplace.markets.models import MarketStaff

from ..choices import HandoverKind
from ..models import Shipment, Site
from ..selectors.visibility import sees_everything


def may_act_at(user: User, site: Site) -> bool:
    """A controller (or admin) acts anywhere; a co-operative manager at her co-operative's sites,
    a market operator at her market's. Everyone else nowhere."""
    if sees_everything(user):
        return True
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.role == Role.COOPERATIVE_MANAGER and site.cooperative_id is not None:
        cooperative = cooperative_managed_by(user)
        return cooperative is not None and cooperative.pk == site.cooperative_id
    if user.role == Role.MARKET_OPERATOR and site.market_id is not None:
        return MarketStaff.objects.filter(user=user, market_id=site.market_id).exists()
    return False


def may_plan_between(user: User, origin: Site, destination: Site) -> bool:
    """Planning (and cancelling) needs a hand at one end of the leg."""
    return may_act_at(user, origin) or may_act_at(user, destination)


def may_record_handover(user: User, shipment: Shipment, kind: str) -> bool:
    """The origin's people load, the destination's unload; a controller does either."""
    site = shipment.origin if kind == HandoverKind.LOADING else shipment.destination
    return may_act_at(user, site)


def require_registry_keeper(user: User) -> None:
    if not sees_everything(user):
        raise PermissionDenied(_("Only a cold-chain controller may change the registry."))
