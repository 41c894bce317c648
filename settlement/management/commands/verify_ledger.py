"""manage.py verify_ledger [--seal]: is the ledger still what was written?

Prints one line per check (✓ or ✗ with what was found) and the chain head to publish; exits
with status 1 when anything is wrong. Unsealed entries are information, not an error.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from settlement.chain import seal_entries
from settlement.findings import (
    CHECK_BALANCES,
    CHECK_CHAIN,
    CHECK_CONTENT,
    CHECK_ENTRIES,
    CHECK_HOLDS,
)
from settlement.verification import LedgerVerification, verify_ledger


class Command(BaseCommand):
    help = (
        "Recompute every journal entry's content hash, the hash chain of sealed entries, "
        "every cached balance and the held funds; print the chain head; exit 1 on any "
        "mismatch."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seal",
            action="store_true",
            help="Seal the committed, unsealed entries into the chain before verifying.",
        )

    def handle(self, *args, seal: bool = False, **options):
        if seal:
            sealed = 0
            while count := seal_entries():
                sealed += count
            self.stdout.write(_("Sealed %(count)d entries.") % {"count": sealed})
        result = verify_ledger()
        self._report(result)
        errors = [finding for finding in result.findings if finding.is_error]
        if errors:
            raise CommandError(
                ngettext(
                    "The ledger does not verify: %(count)d problem found.",
                    "The ledger does not verify: %(count)d problems found.",
                    len(errors),
                )
                % {"count": len(errors)},
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(_("The ledger verifies.")))

    def _report(self, result: LedgerVerification) -> None:
        write = self.stdout.write
        write(_("Ledger verification"))
        write(
            "  "
            + _("Entries: %(entries)d (%(sealed)d sealed, %(unsealed)d not sealed yet)")
            % {"entries": result.entries, "sealed": result.sealed, "unsealed": result.unsealed}
        )
        write(
            "  "
            + _("Chain head: seal %(seq)d %(hash)s")
            % {"seq": result.head.seal_seq, "hash": result.head.chain_hash}
        )
        balances = result.balances
        checks = [
            (CHECK_CONTENT, _("Content hashes match the entries")),
            (CHECK_CHAIN, _("Hash chain links from genesis, without gaps")),
            (CHECK_ENTRIES, _("Every entry balances")),
            (
                CHECK_BALANCES,
                _("Balance slots equal their postings (%(slots)d slots, total %(total)s)")
                % {"slots": balances.slots, "total": balances.cached},
            ),
            (CHECK_HOLDS, _("Held funds equal the open payment holds")),
        ]
        for check, label in checks:
            if result.passed(check):
                write("  " + self.style.SUCCESS("✓") + f" {label}")
                continue
            write("  " + self.style.ERROR("✗") + f" {label}")
            for finding in result.findings:
                if finding.check == check and finding.is_error:
                    write(f"      {finding.message}")
                    ids = ", ".join(map(str, finding.ids))
                    write(f"      [{finding.code}] " + _("ids: %(ids)s") % {"ids": ids})
        for finding in result.findings:
            if not finding.is_error:
                write(f"  i {finding.message}")
