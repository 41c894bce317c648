"""manage.py reconcile [--market CODE] [--date YYYY-MM-DD]: does the ledger add up?

For each book (or the market's): the trial balance up to the end of the day and the day's
movements; balances against postings; for each market (or the one given): the day's trades
against the day's settlement entries and reversals. Exits with status 1 on any finding.
"""

import argparse
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from marketplace.markets.models import Market
from marketplace.markets.reconciliation import Comparison, Reconciliation, reconcile
from settlement.findings import CHECK_BALANCES


def business_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(_("Give a date as YYYY-MM-DD.")) from None


class Command(BaseCommand):
    help = (
        "Trial balance, balances against postings, and a business day's trades against its "
        "settlement entries; exit 1 on any mismatch."
    )

    def add_arguments(self, parser):
        parser.add_argument("--market", help="The market's code (all markets if left out).")
        parser.add_argument(
            "--date",
            type=business_date,
            help="The business day, YYYY-MM-DD (today in Asia/Shanghai if left out).",
        )

    def handle(self, *args, market: str | None = None, date: date | None = None, **options):
        chosen = None
        if market:
            chosen = Market.objects.filter(code=market).first()
            if chosen is None:
                raise CommandError(
                    _("There is no market with the code %(code)s.") % {"code": market}
                )
        result = reconcile(market=chosen, business_date=date)
        self._report(result)
        errors = [finding for finding in result.findings if finding.is_error]
        if errors:
            raise CommandError(
                ngettext(
                    "The ledger does not reconcile: %(count)d problem found.",
                    "The ledger does not reconcile: %(count)d problems found.",
                    len(errors),
                )
                % {"count": len(errors)},
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(_("The ledger reconciles.")))

    def _mark(self, ok: bool) -> str:
        return self.style.SUCCESS("✓") if ok else self.style.ERROR("✗")

    def _report(self, result: Reconciliation) -> None:
        write = self.stdout.write
        write(_("Reconciliation of %(day)s") % {"day": result.business_date.isoformat()})
        for book in result.books:
            write("")
            write(_("Book %(name)s (%(code)s)") % {"name": book.name, "code": book.code})
            write(
                f"  {self._mark(book.balanced)} "
                + _("Trial balance: debits %(debits)s, credits %(credits)s")
                % {"debits": book.debits, "credits": book.credits}
            )
            for line in book.lines:
                write(
                    f"      {line.label:<20} "
                    + _("debits %(debits)14s  credits %(credits)14s  balance %(balance)14s")
                    % {"debits": line.debits, "credits": line.credits, "balance": line.balance}
                )
            if book.movements:
                write("    " + _("Movements of the day:"))
                for movement in book.movements:
                    write(
                        f"      {movement.label:<20} "
                        + _("entries %(count)6d  amount %(amount)14s")
                        % {"count": movement.count, "amount": movement.amount}
                    )
        write("")
        balances = result.balances
        write(
            f"{self._mark(result.passed(CHECK_BALANCES))} "
            + _(
                "Balances equal postings: %(slots)d balance slots hold %(cached)s, "
                "their postings sum to %(posted)s"
            )
            % {"slots": balances.slots, "cached": balances.cached, "posted": balances.posted}
        )
        for day in result.days:
            write("")
            write(
                _("Market %(name)s (%(code)s), %(day)s")
                % {
                    "name": day.market_name,
                    "code": day.market_code,
                    "day": result.business_date.isoformat(),
                }
            )
            write(f"  {self._mark(day.trades_ok)} " + _("Trades against settlement entries"))
            rows: list[tuple[str, Comparison]] = [
                (_("count"), day.count),
                (_("buyers paid"), day.buyers_paid),
                (_("sellers owed"), day.sellers_owed),
                (_("commission"), day.commission),
            ]
            for label, comparison in rows:
                write(
                    f"      {label:<14} "
                    + _("trades %(trades)14s  entries %(entries)14s")
                    % {"trades": comparison.trades, "entries": comparison.entries}
                )
            write(
                f"  {self._mark(day.reversals_ok)} "
                + _("Reversals: trades reversed %(trades)d, reversal entries %(entries)d")
                % {"trades": day.reversals.trades, "entries": day.reversals.entries}
            )
        errors = [finding for finding in result.findings if finding.is_error]
        if errors:
            write("")
            write(_("Findings:"))
            for finding in errors:
                write(f"  ✗ [{finding.code}] {finding.message}")
                write("      " + _("ids: %(ids)s") % {"ids": ", ".join(map(str, finding.ids))})
