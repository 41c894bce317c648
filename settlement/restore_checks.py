"""What a restored copy of the database must prove about the ledger (common/backups.py)."""

from common.backups import CheckOutcome, restored_copy_check

from .verification import verify_ledger


@restored_copy_check("ledger")
def ledger_verifies() -> CheckOutcome:
    result = verify_ledger()
    problems = [finding for finding in result.findings if finding.is_error]
    if problems:
        found = ", ".join(sorted({finding.code for finding in problems}))
        return CheckOutcome(False, f"ledger does not verify ({len(problems)} problems: {found})")
    return CheckOutcome(
        True, f"ledger verifies ({result.entries} entries, chain head {result.head.seal_seq})"
    )
