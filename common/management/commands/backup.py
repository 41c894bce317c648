"""manage.py backup [--keep N]: dump the database and archive the media into a new folder under
BACKUP_DIR, then keep the newest N backups (BACKUP_KEEP). `make backup` runs it as the owner."""

from django.core.management.base import BaseCommand, CommandError

from common import backups


class Command(BaseCommand):
    help = "Take a backup (pg_dump custom format + media) into BACKUP_DIR and prune old ones."

    def add_arguments(self, parser):
        parser.add_argument("--keep", type=int, default=None, help="Backups to keep (BACKUP_KEEP).")

    def handle(self, *args, keep: int | None = None, **options):
        try:
            backup = backups.take_backup()
        except backups.BackupError as exc:
            raise CommandError(f"backup: FAILED {exc}") from exc
        pruned = backups.prune_backups(keep=keep)
        rows = sum(backup.manifest["tables"].values())
        self.stdout.write(
            f"backup: {backup.folder} ({len(backup.manifest['tables'])} tables, {rows} rows, "
            f"{backup.manifest['media_files']} media files, "
            f"{backup.manifest['dump_bytes']} bytes of dump)"
        )
        if pruned:
            self.stdout.write("backup: removed " + ", ".join(pruned))
