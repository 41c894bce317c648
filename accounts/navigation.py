"""Role-aware navigation: what each role's menu shows, in order.

An app that adds a page for a role adds its entry here; the URL name must exist.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import Role


@dataclass(frozen=True)
class NavEntry:
    label: str | Promise  # a lazy translation, rendered in the reader's language
    url_name: str


WORKSPACE = NavEntry(_("Workspace"), "accounts:workspace")
CATALOGUE = NavEntry(_("Catalogue"), "farms:product_list")
MY_LOTS = NavEntry(_("Harvest lots"), "farms:lot_list")
RECORD_LOT = NavEntry(_("Record harvest"), "farms:lot_create")
FARMS = NavEntry(_("Farms"), "farms:farm_list")
MEMBERS = NavEntry(_("Members"), "farms:member_list")
MY_COOPERATIVE = NavEntry(_("My co-operative"), "farms:my_cooperative")
COOPERATIVE_APPLICATIONS = NavEntry(_("Co-operative applications"), "farms:application_review_list")
API_DOCS = NavEntry(_("API"), "api-docs")
MY_LISTINGS = NavEntry(_("My listings"), "marketplace:my_listings")
ORDERS = NavEntry(_("Orders"), "marketplace:order_list")
FIND_PRODUCE = NavEntry(_("Find produce"), "marketplace:search")
COUNTER = NavEntry(_("Counter"), "markets:counter")
TRADES = NavEntry(_("Trades"), "markets:trade_list")
TOP_UP = NavEntry(_("Card top-up"), "markets:top_up")
TRADERS = NavEntry(_("Traders"), "markets:trader_list")
BUSINESS_DAYS = NavEntry(_("Business days"), "markets:day_list")
RECONCILIATION = NavEntry(_("Reconciliation"), "markets:reconciliation")
MARKET_ACCOUNT = NavEntry(_("Market account"), "markets:my_account")
MARKET_CARDS = NavEntry(_("Market cards"), "markets:cards")
CARD_APPLICATIONS = NavEntry(_("Card applications"), "markets:card_queue")
PRICE_BOARD = NavEntry(_("Prices"), "markets:price_board")
GATE = NavEntry(_("Gate"), "traceability:gate")
CERTIFICATES = NavEntry(_("Certificates"), "traceability:certificate_list")
RECALLS = NavEntry(_("Recalls"), "traceability:recall_list")
CONTROL_SCREEN = NavEntry(pgettext_lazy("cold-chain wall screen", "Screen"), "coldchain:screen")
COLD_CHAIN_SCREEN = NavEntry(_("Cold chain screen"), "coldchain:screen")
SHIPMENTS = NavEntry(_("Shipments"), "coldchain:shipment_list")
WAREHOUSE = NavEntry(_("Warehouse"), "delivery:warehouse")
STOCK = NavEntry(_("Stock"), "delivery:stock")
RECEIVING = NavEntry(_("Receiving"), "delivery:receiving")
REPLENISHMENT = NavEntry(_("Replenishment"), "delivery:replenishment")
COURIER_PAGE = NavEntry(pgettext_lazy("courier's own page", "Deliveries"), "delivery:courier")
SHOP = NavEntry(_("Shop"), "delivery:shop")
SHOP_ORDERS = NavEntry(_("My orders"), "delivery:shop_orders")
AUDIT_LOG = NavEntry(_("Audit log"), "accounts:audit_log")
CONTROL_TOWER = NavEntry(_("Control tower"), "controltower:screen")
PARTNERS = NavEntry(_("Partner systems"), "traceability:partner_list")
# Every signed-in person's own data (PIPL): last in every role's menu.
MY_DATA = NavEntry(_("My data"), "accounts:my_data")

NAVIGATION: dict[str, tuple[NavEntry, ...]] = {
    Role.FARMER: (
        WORKSPACE,
        RECORD_LOT,
        MY_LOTS,
        CERTIFICATES,
        MY_LISTINGS,
        ORDERS,
        MARKET_ACCOUNT,
        PRICE_BOARD,
        FARMS,
        MY_COOPERATIVE,
    ),
    Role.COOPERATIVE_MANAGER: (
        WORKSPACE,
        MEMBERS,
        FARMS,
        MY_LOTS,
        CERTIFICATES,
        RECALLS,
        PARTNERS,
        MY_LISTINGS,
        ORDERS,
        COLD_CHAIN_SCREEN,
        SHIPMENTS,
        MARKET_ACCOUNT,
        PRICE_BOARD,
        CATALOGUE,
    ),
    Role.MARKET_OPERATOR: (
        WORKSPACE,
        COUNTER,
        GATE,
        RECALLS,
        TRADES,
        COLD_CHAIN_SCREEN,
        SHIPMENTS,
        TOP_UP,
        TRADERS,
        CARD_APPLICATIONS,
        BUSINESS_DAYS,
        RECONCILIATION,
        PRICE_BOARD,
        CATALOGUE,
    ),
    Role.BUYER: (
        WORKSPACE,
        FIND_PRODUCE,
        ORDERS,
        MARKET_ACCOUNT,
        MARKET_CARDS,
        PRICE_BOARD,
        CATALOGUE,
    ),
    Role.WAREHOUSE_MANAGER: (
        WORKSPACE,
        WAREHOUSE,
        STOCK,
        RECEIVING,
        REPLENISHMENT,
        ORDERS,
        MARKET_ACCOUNT,
        CATALOGUE,
    ),
    Role.COURIER: (WORKSPACE, COURIER_PAGE),
    Role.COLDCHAIN_CONTROLLER: (WORKSPACE, CONTROL_SCREEN, SHIPMENTS, CATALOGUE),
    Role.CONSUMER: (WORKSPACE, SHOP, SHOP_ORDERS, MARKET_CARDS),
    Role.REGULATOR: (WORKSPACE, CONTROL_TOWER, CATALOGUE),
    Role.ADMIN: (
        WORKSPACE,
        CONTROL_TOWER,
        COOPERATIVE_APPLICATIONS,
        MEMBERS,
        FARMS,
        MY_LOTS,
        CERTIFICATES,
        RECALLS,
        MY_LISTINGS,
        FIND_PRODUCE,
        ORDERS,
        COLD_CHAIN_SCREEN,
        SHIPMENTS,
        PRICE_BOARD,
        CATALOGUE,
        AUDIT_LOG,
        API_DOCS,
    ),
}


def navigation_for(user) -> tuple[NavEntry, ...]:
    if not user.is_authenticated:
        return ()
    role = Role.ADMIN if user.is_platform_admin else user.role
    return (*NAVIGATION.get(role, (WORKSPACE,)), MY_DATA)
