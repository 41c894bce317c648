"""manage.py restore_check [--backup FOLDER] [--keep-copy]: restore the newest backup into a
scratch database, verify the ledger, reconcile the markets, compare every table's row count,
and print a one-line verdict; exits 1 when it fails. `make restore-check` runs it."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common import backups


class Command(BaseCommand):
    help = "Prove the newest backup restores: restore it, check it, print the verdict."

    def add_arguments(self, parser):
        parser.add_argument("--backup", type=Path, help="A backup folder (default: the newest).")
        parser.add_argument(
            "--keep-copy", action="store_true", help="Keep the scratch database to look into."
        )

    def handle(self, *args, backup: Path | None = None, keep_copy: bool = False, **options):
        chosen = None
        if backup is not None:
            chosen = next(
                (
                    each
                    for each in backups.backups(backup.parent)
                    if each.folder.resolve() == backup.resolve()
                ),
                None,
            )
            if chosen is None:
                raise CommandError(f"restore-check: FAILED {backup} is not a finished backup")
        result = backups.restore_check(chosen, keep_copy=keep_copy)
        if not result.ok:
            self.stderr.write(result.verdict)
            raise SystemExit(1)
        self.stdout.write(result.verdict)
