"""A trade's receipt: what it says is decided once here, for the printable page and the PDF.

The PDF is built with common.pdf (reportlab's CID font for the Chinese names); the same
trade gives the same bytes.
"""

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from moneyed import Money

from common.dates import BUSINESS_TIME_ZONE
from common.pdf import table_document

from .models import Trade, Trader


def yuan(money: Money) -> str:
    return f"¥{money.amount:.2f}"


def kg(value) -> str:
    return f"{value:.3f} kg"


def masked_card(card_number: str) -> str:
    """The card's last four digits: enough to tell cards apart on paper."""
    return f"**** {card_number[-4:]}"


def _party(trader: Trader) -> str:
    return f"{trader.name} ({_('card')} {masked_card(trader.card_number)})"


@dataclass(frozen=True)
class Receipt:
    title: str
    facts: list[tuple[str, str]]  # who, what, when
    header: list[str]
    row: list[str]
    totals: list[tuple[str, str]]  # commissions and what each side pays or receives
    reversal: str  # empty unless the trade was reversed

    @property
    def line(self) -> list[tuple[str, str]]:
        """The table's one row as (heading, value) pairs, for a narrow screen."""
        return list(zip(self.header, self.row, strict=True))


def receipt_of(trade: Trade) -> Receipt:
    """What the receipt of a trade says, in the active language; product names in Chinese."""
    recorded = timezone.localtime(trade.recorded_at, BUSINESS_TIME_ZONE)
    product = f"{trade.product.name_zh} {trade.product.name_en}"
    if trade.lot is not None:
        product += f" · {_('lot')} {trade.lot.lot_code}"
    facts = [
        (_("Market"), trade.market.name),
        (_("Receipt no."), f"{trade.market.code.upper()}-{trade.pk:06d}"),
        (_("Business day"), trade.business_date.isoformat()),
        (_("Recorded at"), recorded.strftime("%Y-%m-%d %H:%M:%S")),
        (_("Buyer"), _party(trade.buyer)),
        (_("Seller"), _party(trade.seller)),
        (_("Operator"), str(trade.recorded_by)),
    ]
    totals = [
        (_("Buyer's commission"), yuan(trade.buyer_fee)),
        (_("Buyer pays"), yuan(trade.buyer_pays)),
        (_("Seller's commission"), yuan(trade.seller_fee)),
        (_("Seller receives"), yuan(trade.seller_receives)),
    ]
    reversal = ""
    if trade.is_reversed:
        reversal = _("Reversed: %(reason)s") % {"reason": trade.reversal_reason}
    return Receipt(
        title=_("%(market)s · trade receipt") % {"market": trade.market.name},
        facts=facts,
        header=[_("Product"), _("Gross"), _("Tare"), _("Net"), _("Price per kg"), _("Amount")],
        row=[
            product,
            kg(trade.gross_kg),
            kg(trade.tare_kg),
            kg(trade.net_kg),
            yuan(trade.unit_price),
            yuan(trade.amount),
        ],
        totals=totals,
        reversal=reversal,
    )


def receipt_pdf(trade: Trade) -> bytes:
    receipt = receipt_of(trade)
    footer = [f"{label}: {value}" for label, value in receipt.totals]
    if receipt.reversal:
        footer.append(receipt.reversal)
    return table_document(
        title=receipt.title,
        lines=[f"{label}: {value}" for label, value in receipt.facts],
        header=receipt.header,
        rows=[receipt.row],
        footer=footer,
    )


def receipt_filename(trade: Trade) -> str:
    return f"receipt-{trade.market.code}-{trade.pk}.pdf"
