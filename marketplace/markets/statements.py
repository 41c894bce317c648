"""A trader's settlement statement (结算单) as a CSV file and a PDF document.

Both are read from the stored Statement (its lines were copied from the ledger at end of
day), never from the live ledger, so a statement downloaded twice is the same file. They
are documents of a Chinese market and carry fixed Chinese labels whatever language the
reader's page is in: the same statement gives the same bytes.
"""

import csv
import io
from decimal import Decimal

from common.pdf import table_document
from settlement.choices import EntryKind

from .models import Statement

TITLE = "结算单"
BOM = "\ufeff"  # Excel reads a CSV without it as the ANSI code page and garbles Chinese
OPENING = "期初余额"
CLOSING = "期末余额"
CSV_HEADER = (
    "营业日",
    "时间",
    "类型",
    "品名",
    "净重(kg)",
    "单价(元/kg)",
    "收入(元)",
    "支出(元)",
    "余额(元)",
    "交易号",
    "摘要",
)
PDF_HEADER = ("时间", "类型", "品名/摘要", "净重(kg)", "单价(元/kg)", "收入", "支出", "余额")
KIND_LABELS: dict[str, str] = {
    EntryKind.TOP_UP: "充值",
    EntryKind.ORDER: "订单",
    EntryKind.REVERSAL: "冲正",
    EntryKind.PAYOUT: "结算付款",
    EntryKind.WITHDRAWAL: "提现",
}
PDF_TEXT_CHARS = 18  # a PDF table cell does not wrap; the CSV has the whole memo
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def mask_card(card_number: str) -> str:
    """Only the last four digits of a card number: the statement may be forwarded."""
    return "*" * max(len(card_number) - 4, 0) + card_number[-4:]


def kind_label(line: dict, *, trader_is_seller: bool) -> str:
    kind = line.get("kind") or ""
    if kind == EntryKind.TRADE:
        return "卖出" if trader_is_seller else "买入"
    return KIND_LABELS.get(kind, kind)


def _money(value) -> str:
    """A balance as the statement prints it: two decimals, no currency sign."""
    amount = getattr(value, "amount", value)
    return f"{Decimal(amount):.2f}"


def _text_cell(text: str) -> str:
    """Text a spreadsheet must not run as a formula (a memo is typed by a person)."""
    text = str(text or "")
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def statement_rows(statement: Statement) -> list[list[str]]:
    """The CSV's rows under its header: opening balance, one row per line, closing balance."""
    day = statement.business_date.isoformat()
    seller = statement.trader.is_seller
    opening = [day, "", OPENING, "", "", "", "", "", _money(statement.opening_balance), "", ""]
    closing = [day, "", CLOSING, "", "", "", "", "", _money(statement.closing_balance), "", ""]
    lines = [
        [
            day,
            line.get("time", ""),
            kind_label(line, trader_is_seller=seller),
            _text_cell(line.get("product", "")),
            line.get("net_kg", ""),
            line.get("unit_price", ""),
            line.get("credit", ""),
            line.get("debit", ""),
            line.get("balance", ""),
            str(line.get("trade") or ""),
            _text_cell(line.get("memo", "")),
        ]
        for line in statement.lines
    ]
    return [opening, *lines, closing]


def statement_csv(statement: Statement) -> str:
    """The statement as CSV text (encode it as UTF-8): a BOM, a header row, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    writer.writerows(statement_rows(statement))
    return BOM + buffer.getvalue()


def _short(text: str) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= PDF_TEXT_CHARS else text[: PDF_TEXT_CHARS - 1] + "…"


def statement_pdf(statement: Statement) -> bytes:
    """The statement as a one-page-per-screenful PDF with Chinese text (A4)."""
    trader = statement.trader
    seller = trader.is_seller
    rows = [
        [
            line.get("time", ""),
            kind_label(line, trader_is_seller=seller),
            _short(line.get("product") or line.get("memo", "")),
            line.get("net_kg", ""),
            line.get("unit_price", ""),
            line.get("credit", ""),
            line.get("debit", ""),
            line.get("balance", ""),
        ]
        for line in statement.lines
    ]
    return table_document(
        title=TITLE,
        lines=[
            f"市场：{trader.market.name}",
            f"商户：{trader.name}（{'卖方' if seller else '买方'}）",
            f"卡号：{mask_card(trader.card_number)}",
            f"营业日：{statement.business_date.isoformat()}",
            f"{OPENING}：¥{_money(statement.opening_balance)}",
        ],
        header=PDF_HEADER,
        rows=rows,
        footer=[
            f"{CLOSING}：¥{_money(statement.closing_balance)}",
            f"成交笔数：{statement.trade_count}　成交量：{statement.volume_kg} kg",
        ],
    )
