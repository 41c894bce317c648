"""What a restored copy of the database must prove about the markets (common/backups.py)."""

from common.backups import CheckOutcome, restored_copy_check
from common.dates import business_today

from .markets.models import Trade
from .markets.reconciliation import reconcile

RECENT_DAYS = 7  # business days with trades reconciled, the newest first


@restored_copy_check("reconciliation")
def markets_reconcile() -> CheckOutcome:
    """The markets' reconciliation of the last RECENT_DAYS business days that had trades (the
    trial balances and balance slots of every book come with each)."""
    days = list(
        Trade.objects.order_by("-business_date")
        .values_list("business_date", flat=True)
        .distinct()[:RECENT_DAYS]
    )
    problems = []
    for day in days or [business_today()]:
        problems += [each for each in reconcile(business_date=day).findings if each.is_error]
    if problems:
        found = ", ".join(sorted({finding.code for finding in problems}))
        return CheckOutcome(False, f"reconciliation found {len(problems)} problems ({found})")
    return CheckOutcome(True, f"markets reconcile (trading days: {len(days)})")
