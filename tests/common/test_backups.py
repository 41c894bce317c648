"""Backups that restore: a backup of a database with ledger data restores into a scratch copy
whose ledger verifies, whose markets reconcile and whose tables hold as many rows as the source
did; a posting changed in the restored copy (its triggers switched off, as only the tables'
owner can) fails the verdict. Old backups are pruned to BACKUP_KEEP."""

import json
import tarfile
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import translation

from common import backups
from settlement.models import JournalEntry, Posting


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def backup_dir(settings, tmp_path) -> Path:
    settings.BACKUP_DIR = tmp_path / "backups"
    return settings.BACKUP_DIR


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    (settings.MEDIA_ROOT / "listings").mkdir(parents=True)
    (settings.MEDIA_ROOT / "listings" / "cabbage.jpg").write_bytes(b"\xff\xd8 not much of a photo")
    (settings.PRIVATE_MEDIA_ROOT / "handovers").mkdir(parents=True)
    (settings.PRIVATE_MEDIA_ROOT / "handovers" / "log.csv").write_text("recorded_at,t\n")


@pytest.fixture
def ledger(settle):
    """Three settled trades, sealed into the hash chain: entries and postings to restore."""
    for key in ("t1", "t2", "t3"):
        settle(key)
    call_command("verify_ledger", "--seal", stdout=StringIO())


@pytest.fixture
def scratch():
    """The scratch database's name; dropped at the end whatever happened."""
    name = backups.scratch_database_name(backups.owner_target())
    yield name
    backups.drop_database(name)


@pytest.mark.django_db(transaction=True)
def test_a_backup_holds_the_dump_the_media_and_every_tables_row_count(backup_dir, media, ledger):
    backup = backups.take_backup()

    assert backup.folder.parent == backup_dir
    assert (backup.folder / "database.dump").read_bytes()[:5] == b"PGDMP"  # custom format
    manifest = json.loads((backup.folder / "manifest.json").read_text())
    assert manifest["tables"]["public.marketplace_trade"] == 3
    assert manifest["tables"][f"public.{Posting._meta.db_table}"] == Posting.objects.count() > 0
    assert manifest["media_files"] == 2
    with tarfile.open(backup.folder / "media.tar.gz") as archive:
        assert sorted(archive.getnames()) == [
            "media/listings/cabbage.jpg",
            "private/handovers/log.csv",
        ]


@pytest.mark.django_db(transaction=True)
def test_the_newest_backup_restores_and_checks_out(backup_dir, media, ledger, scratch):
    backups.take_backup(now=datetime(2026, 12, 1, tzinfo=UTC))
    out = StringIO()
    call_command("backup", stdout=out)  # the newest
    assert out.getvalue().startswith(f"backup: {backup_dir}/")
    newest = backups.latest_backup()

    out = StringIO()
    call_command("restore_check", stdout=out)

    verdict = out.getvalue()
    assert verdict.startswith(f"restore-check: OK {newest.name}: ")
    assert verdict.count("\n") == 1
    assert "ledger verifies (4 entries" in verdict  # the card funded, three trades
    assert "markets reconcile (trading days: 1)" in verdict
    assert "2 media files" in verdict
    with connection.cursor() as cursor:  # the scratch copy is gone
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [scratch])
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_a_posting_changed_in_the_restored_copy_fails_the_verdict(
    backup_dir, media, ledger, scratch
):
    backup = backups.take_backup()
    backups.restore_backup(backup, database=scratch)
    posting = Posting.objects.order_by("pk").first()

    # What a hand with the owner's rights could do: the ledger's triggers refuse any UPDATE.
    with backups.owner_target().connect(scratch) as conn:
        table = Posting._meta.db_table
        conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        conn.execute(f"UPDATE {table} SET amount = amount + 1 WHERE id = %s", [posting.pk])
        conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    result = backups.check_restored(backup, database=scratch)

    assert not result.ok
    assert result.verdict.startswith(f"restore-check: FAILED {backup.name}: ledger: ")
    assert "ledger does not verify" in result.verdict
    assert result.outcomes["rows"].ok  # as many rows as ever: only the sums tell


@pytest.mark.django_db(transaction=True)
def test_a_row_lost_in_the_restored_copy_fails_the_verdict(backup_dir, media, ledger, scratch):
    backup = backups.take_backup()
    backups.restore_backup(backup, database=scratch)

    with backups.owner_target().connect(scratch) as conn:
        conn.execute("DELETE FROM django_session")
        conn.execute("DELETE FROM axes_accessattempt")
        conn.execute("INSERT INTO django_content_type (app_label, model) VALUES ('x', 'y')")
    result = backups.check_restored(backup, database=scratch)

    assert not result.ok
    assert "rows: row counts differ: public.django_content_type " in result.verdict


@pytest.mark.django_db
def test_restore_check_without_a_backup_fails(backup_dir, capsys):
    with pytest.raises(SystemExit) as exited:
        call_command("restore_check")

    assert exited.value.code == 1
    assert capsys.readouterr().err.startswith(
        f"restore-check: FAILED -: backup: none in {backup_dir}"
    )


def test_only_the_newest_backups_are_kept(backup_dir):
    start = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    names = []
    for day in range(5):
        folder = backup_dir / (start + timedelta(days=day)).strftime("%Y%m%dT%H%M%SZ")
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text('{"tables": {}, "media_files": 0}')
        names.append(folder.name)
    unfinished = backup_dir / "20261202T030000Z-1"
    unfinished.mkdir()

    removed = backups.prune_backups(keep=3)

    assert removed == sorted([names[0], names[1], unfinished.name])
    assert [each.name for each in backups.backups()] == names[2:]


@pytest.mark.django_db(transaction=True)
def test_the_nightly_task_takes_a_backup_and_prunes(backup_dir, media, settings):
    from common.tasks import take_nightly_backup

    settings.BACKUP_KEEP = 1
    old = backup_dir / "20200101T000000Z"
    old.mkdir(parents=True)
    (old / "manifest.json").write_text('{"tables": {}, "media_files": 0}')

    outcome = take_nightly_backup.apply().get()

    assert outcome["removed"] == ["20200101T000000Z"]
    assert [each.folder for each in backups.backups()] == [Path(outcome["backup"])]
    assert JournalEntry.objects.count() == 0
