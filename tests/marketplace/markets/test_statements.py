"""Settlement statements as CSV and PDF: what a trader downloads after end of day."""

import base64
import csv
import io
import re
import zlib
from datetime import datetime, time, timedelta

import pytest
import time_machine

from common.dates import BUSINESS_TIME_ZONE, business_today
from marketplace.markets.end_of_day import close_business_day
from marketplace.markets.statements import (
    CSV_HEADER,
    mask_card,
    statement_csv,
    statement_pdf,
)
from marketplace.models import Statement

pytestmark = pytest.mark.django_db


def days_ahead(days: int) -> datetime:
    """10:00 in the market, `days` after today (the buyer's card was funded today)."""
    return datetime.combine(business_today() + timedelta(days=days), time(10), BUSINESS_TIME_ZONE)


def close_today(market):
    return close_business_day(market=market, business_date=business_today())


def csv_rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def pdf_text(pdf: bytes) -> str:
    """The text a PDF of common/pdf.py shows: its content streams' strings (UTF-16BE, since
    the CID font is Unicode), one per line."""
    texts = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = stream.strip()
        try:
            content = zlib.decompress(base64.a85decode(data.removesuffix(b"~>")))
        except ValueError:
            continue
        texts.extend(
            _unescape(literal).decode("utf-16-be", errors="replace")
            for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", content, re.S)
        )
    return "\n".join(texts)


def _unescape(literal: bytes) -> bytes:
    simple = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

    def one(match: re.Match) -> bytes:
        escaped = match.group(1)
        if escaped[:1].isdigit():
            return bytes([int(escaped, 8)])
        return simple.get(escaped, escaped)

    return re.sub(rb"\\([0-7]{1,3}|.)", one, literal, flags=re.S)


def test_buyer_statement_csv_has_the_days_lines_between_opening_and_closing(
    settle, market, buyer_trader, commission
):
    first = settle("t1")  # 98 kg × ¥1.20 = ¥117.60, buyer's 1 % → ¥1.18
    settle("t2", gross_kg="50.000", tare_kg="0", unit_price="2.00")  # ¥100.00 + ¥1.00
    close_today(market)

    statement = Statement.objects.get(trader=buyer_trader)
    rows = csv_rows(statement_csv(statement))

    assert rows[0] == list(CSV_HEADER)
    day = business_today().isoformat()
    assert rows[1][:3] == [day, "", "期初余额"]
    assert rows[1][8] == "0.00"
    lines = rows[2:-1]
    assert [line[2] for line in lines] == ["充值", "买入", "买入"]
    assert [(line[6], line[7], line[8]) for line in lines] == [
        ("10000.00", "", "10000.00"),
        ("", "118.78", "9881.22"),
        ("", "101.00", "9780.22"),
    ]
    assert lines[1][3] == "大白菜"
    assert lines[1][4:6] == ["98.000", "1.20"]
    assert lines[1][9] == str(first.pk)
    assert rows[-1][2] == "期末余额"
    assert rows[-1][8] == "9780.22" == str(statement.closing_balance.amount)


def test_seller_statement_shows_sales_a_reversal_and_the_payout(
    settle, market, seller_trader, supervisor, commission
):
    from marketplace.markets.trades import reverse_trade

    settle("t1")  # the seller gets ¥117.60 − ¥2.35
    mistake = settle("t2", gross_kg="10.000", tare_kg="0", unit_price="3.00")  # ¥30 − ¥1
    reverse_trade(trade_id=mistake.pk, by=supervisor, reason="错秤", idempotency_key="r1")
    close_today(market)

    rows = csv_rows(statement_csv(Statement.objects.get(trader=seller_trader)))
    lines = rows[2:-1]

    assert [line[2] for line in lines] == ["卖出", "卖出", "冲正", "结算付款"]
    assert [(line[6], line[7], line[8]) for line in lines] == [
        ("115.25", "", "115.25"),
        ("29.00", "", "144.25"),
        ("", "29.00", "115.25"),
        ("", "115.25", "0.00"),
    ]
    assert lines[2][10] == "错秤"
    assert (rows[-1][2], rows[-1][8]) == ("期末余额", "0.00")


def test_next_days_statement_opens_with_the_previous_closing_balance(settle, market, buyer_trader):
    day_one, day_two = days_ahead(1), days_ahead(2)
    with time_machine.travel(day_one, tick=False):
        settle("day1")  # ¥117.60, no commission rule
        close_today(market)
    with time_machine.travel(day_two, tick=False):
        settle("day2", unit_price="1.00")  # ¥98.00
        close_today(market)

    first, second = Statement.objects.filter(trader=buyer_trader).order_by("business_date")
    rows = csv_rows(statement_csv(second))

    assert (first.business_date, second.business_date) == (day_one.date(), day_two.date())
    assert first.opening_balance.amount == 10000
    assert rows[1][8] == str(first.closing_balance.amount) == "9882.40"
    assert rows[2][7:9] == ["98.00", "9784.40"]
    assert rows[-1][8] == "9784.40"


def test_a_memo_that_looks_like_a_formula_is_kept_as_text(
    settle, market, seller_trader, supervisor
):
    from marketplace.markets.trades import reverse_trade

    trade = settle("t1")
    reverse_trade(trade_id=trade.pk, by=supervisor, reason="=HYPERLINK(1)", idempotency_key="r1")
    close_today(market)

    rows = csv_rows(statement_csv(Statement.objects.get(trader=seller_trader)))

    assert rows[3][10] == "'=HYPERLINK(1)"


def test_statement_pdf_shows_the_trader_and_balances_with_the_card_masked(
    settle, market, buyer_trader, commission
):
    settle("t1")
    close_today(market)
    statement = Statement.objects.get(trader=buyer_trader)

    pdf = statement_pdf(statement)
    text = pdf_text(pdf)

    assert pdf.startswith(b"%PDF")
    assert "结算单" in text
    assert "北京新发地" in text
    assert "李记餐饮" in text
    assert "************0001" in text
    assert "6200000000000001" not in text
    assert business_today().isoformat() in text
    assert "期初余额：¥0.00" in text
    assert "期末余额：¥9881.22" in text
    assert "大白菜" in text
    assert "118.78" in text


def test_the_same_statement_gives_the_same_bytes(settle, market, buyer_trader):
    settle("t1")
    close_today(market)
    statement = Statement.objects.get(trader=buyer_trader)

    again = Statement.objects.get(pk=statement.pk)

    assert statement_pdf(statement) == statement_pdf(again)
    assert statement_csv(statement) == statement_csv(again)


def test_end_of_day_run_twice_keeps_the_statement_files_identical(settle, market, buyer_trader):
    settle("t1")
    close_today(market)
    before = Statement.objects.get(trader=buyer_trader)
    pdf, text = statement_pdf(before), statement_csv(before)

    close_today(market)

    after = Statement.objects.get(trader=buyer_trader)
    assert (statement_pdf(after), statement_csv(after)) == (pdf, text)


def test_an_empty_day_still_gives_a_statement_of_the_balance(market, buyer_trader):
    """A buyer with money on her card and no movement gets a statement of the balance."""
    tomorrow = days_ahead(1)
    with time_machine.travel(tomorrow, tick=False):
        close_today(market)
    statement = Statement.objects.get(trader=buyer_trader, business_date=tomorrow.date())

    rows = csv_rows(statement_csv(statement))

    assert [row[2] for row in rows[1:]] == ["期初余额", "期末余额"]
    assert rows[1][8] == rows[2][8] == "10000.00"
    assert statement_pdf(statement).startswith(b"%PDF")


@pytest.mark.parametrize(
    ("card", "shown"),
    [("6200000000000001", "************0001"), ("12345678", "****5678")],
)
def test_card_numbers_are_masked_except_the_last_four_digits(card, shown):
    assert mask_card(card) == shown
