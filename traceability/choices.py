from django.db import models
from django.utils.translation import gettext_lazy as _


class TraceCodeKind(models.TextChoices):
    """What the label carrying a trace code was printed for."""

    CERTIFICATE = "certificate", _("Compliance certificate")
    MARKET_ENTRY = "market_entry", _("Market entry receipt")
    STOCK_LABEL = "stock_label", _("Warehouse packing label")
    CONSUMER_ORDER = "consumer_order", _("Consumer order")


class CertificateBasis(models.TextChoices):
    """What the producer's commitment rests on (承诺依据)."""

    COMMISSIONED_TEST = "commissioned_test", _("Commissioned test (委托检测)")
    OWN_TEST = "own_test", _("Own test (自我检测)")
    INTERNAL_QUALITY_CONTROL = "internal_control", _("Internal quality control (内部质量控制)")
    SELF_COMMITMENT = "self_commitment", _("Self-commitment (自我承诺)")

    @classmethod
    def needing_test_record(cls) -> set[str]:
        return {cls.COMMISSIONED_TEST.value, cls.OWN_TEST.value}


class DownstreamKind(models.TextChoices):
    """The records downstream of a lot, as a recall's scope lists them."""

    LISTING = "listing", _("Listing")
    MARKETPLACE_ORDER_LINE = "marketplace_order_line", _("Marketplace order")
    MARKET_TRADE = "market_trade", _("Market trade")
    SHIPMENT = "shipment", _("Shipment")
    STOCK_LOT = "stock_lot", _("Warehouse stock")
    CONSUMER_ORDER_LINE = "consumer_order_line", _("Consumer order")


class TrailStep(models.IntegerChoices):
    """A row of a lot's trail (traceability.models.LotTrailEntry), in the order a forward trace
    lists them: the DownstreamKind it shows, plus the stock receipts that say where a stock lot
    came from and how much it received."""

    LISTING = 1
    MARKETPLACE_ORDER_LINE = 2
    MARKET_TRADE = 3
    SHIPMENT = 4
    STOCK_LOT = 5
    STOCK_RECEIPT = 6
    CONSUMER_ORDER_LINE = 7
