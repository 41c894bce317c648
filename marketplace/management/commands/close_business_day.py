"""manage.py close_business_day --market CODE [--date YYYY-MM-DD]: end of day by hand.

The same service as the nightly task, run here and now: after a failed night, or to close a
day early. Without --date it closes the day the nightly run would close at this moment
(today from MARKET_END_OF_DAY on, yesterday before it). Safe to run again.
"""

from datetime import date
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from common.dates import business_today
from marketplace.markets.end_of_day import close_business_day, due_business_date
from marketplace.markets.models import Market
from marketplace.markets.selectors.funding import drawers_of_day


class Command(BaseCommand):
    help = (
        "Close a market's business day: stop trades, pay sellers out, write statements and "
        "the daily report. Earlier days left open are closed first. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--market", required=True, help="The market's code.")
        parser.add_argument(
            "--date",
            dest="day",
            help="The business day, YYYY-MM-DD (default: the day due for end of day now).",
        )

    def handle(self, *args, market: str, day: str | None = None, **options):
        found = Market.objects.filter(code=market).first()
        if found is None:
            raise CommandError(f"No market has the code {market!r}.")
        business_date = _parse_date(day) if day else due_business_date()
        if business_date > business_today():
            raise CommandError(f"{business_date} has not begun yet.")
        report = close_business_day(market=found, business_date=business_date)
        self.stdout.write(
            f"{found.code} {business_date}: closed. "
            f"trades {report.trade_count} (reversed {report.reversed_count}), "
            f"volume {report.volume_kg} kg, turnover {report.turnover.amount}, "
            f"commission {report.commission.amount}, top-ups {report.top_ups.amount}, "
            f"payouts {report.payouts.amount}, withdrawals {report.withdrawals.amount} (CNY)."
        )
        # The cash drawers as counted so far (an operator may still count hers after the close).
        drawers = drawers_of_day(market=found, business_date=business_date)
        counted = [line.count for line in drawers if not line.is_missing]
        missing = sorted(line.operator.username for line in drawers if line.is_missing)
        difference = sum((count.difference.amount for count in counted), Decimal("0.00"))
        self.stdout.write(
            f"cash drawers: {len(counted)} counted, difference {difference:.2f} (CNY); "
            f"count missing: {', '.join(missing) or 'none'}."
        )


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--date must be YYYY-MM-DD, not {text!r}.") from None
