"""The farms app's tables, one module per job; Django finds them through this package.

Code imports the models from here (`from farms.models import HarvestLot`), constants from
their module (`farms.models.lots.MAX_LOT_QUANTITY_KG`).
"""

# Migration 0001 names these two as farms.models.<name>, so they stay reachable here.
from common.dates import business_today

from .applications import CooperativeApplication
from .catalogue import Product, StorageProfile
from .cooperatives import Cooperative, Membership, MembershipInvitation
from .farms import Farm, GeodesicAreaHectares
from .holds import LotAdmission, LotHold
from .lots import HarvestLot

__all__ = [
    "Cooperative",
    "CooperativeApplication",
    "Farm",
    "GeodesicAreaHectares",
    "HarvestLot",
    "LotAdmission",
    "LotHold",
    "Membership",
    "MembershipInvitation",
    "Product",
    "StorageProfile",
    "business_today",
]
