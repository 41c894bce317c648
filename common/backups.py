"""Backups that are known to restore: take one, keep the newest N, and prove the newest restores.

A backup is a folder under BACKUP_DIR named for its moment (UTC), holding:
- `database.dump`: pg_dump's custom format of the application's database, taken by the
  tables' owner (DATABASE_OWNER_URL) with the server's own major version of pg_dump;
- `media.tar.gz`: the uploaded files, public (MEDIA_ROOT) and private (PRIVATE_MEDIA_ROOT);
- `manifest.json`, written last (a folder without one is an unfinished backup): the row count
  of every table, counted in the very snapshot pg_dump dumps (exported with
  pg_export_snapshot), and the number of media files.

`restore_check()` restores the newest backup into a scratch database, compares every table's
row count with the manifest, opens the media archive, and runs the checks the apps register
for a restored copy (`@restored_copy_check`, in `<app>/restore_checks.py`: the ledger's
verification, the markets' reconciliation), with the application's connection pointed at the
copy. It returns a one-line verdict, `restore-check: OK …` or `restore-check: FAILED …`.
"""

import json
import logging
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.module_loading import autodiscover_modules
from psycopg import sql

from config.env import database_from_url

from .metrics import last_value_gauge

logger = logging.getLogger(__name__)

DUMP = "database.dump"
MEDIA = "media.tar.gz"
MANIFEST = "manifest.json"
SCRATCH_SUFFIX = "_restore_check"

BACKUP_SUCCEEDED_AT = last_value_gauge(
    "backup_last_success_timestamp_seconds", "When the last backup was completed (Unix time)"
)


@dataclass(frozen=True)
class Backup:
    folder: Path
    manifest: dict

    @property
    def name(self) -> str:
        return self.folder.name


@dataclass(frozen=True)
class CheckOutcome:
    """What one check of a restored copy found: ok, and a short phrase for the verdict."""

    ok: bool
    summary: str


@dataclass(frozen=True)
class RestoreCheck:
    backup: str
    outcomes: dict[str, CheckOutcome] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.outcomes) and all(each.ok for each in self.outcomes.values())

    @property
    def verdict(self) -> str:
        if self.ok:
            said = "; ".join(each.summary for each in self.outcomes.values())
            return f"restore-check: OK {self.backup}: {said}"
        failed = "; ".join(
            f"{name}: {each.summary}" for name, each in self.outcomes.items() if not each.ok
        )
        return f"restore-check: FAILED {self.backup}: {failed}"


RestoredCopyCheck = Callable[[], CheckOutcome]
_restored_copy_checks: dict[str, RestoredCopyCheck] = {}


def restored_copy_check(name: str) -> Callable[[RestoredCopyCheck], RestoredCopyCheck]:
    """Register a check run against a restored copy (the default connection points at it)."""

    def register(function: RestoredCopyCheck) -> RestoredCopyCheck:
        _restored_copy_checks[name] = function
        return function

    return register


# --- Where: the database, as its owner, and the PostgreSQL tools --------------------------


@dataclass(frozen=True)
class Target:
    host: str
    port: str
    user: str
    password: str
    database: str

    def connect(self, database: str | None = None, **options) -> psycopg.Connection:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=database or self.database,
            **options,
        )

    def tool_env(self) -> dict[str, str]:
        """The environment of pg_dump and pg_restore: the password never on a command line."""
        return {
            **os.environ,
            "PGHOST": self.host,
            "PGPORT": self.port,
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
        }


def owner_target() -> Target:
    """The application's database, reached as the tables' owner when DATABASE_OWNER_URL is set
    (only its role is taken from it: the database is always the one the application uses)."""
    app = connections[DEFAULT_DB_ALIAS].settings_dict
    owner = database_from_url(settings.DATABASE_OWNER_URL) if settings.DATABASE_OWNER_URL else app
    return Target(
        host=owner["HOST"] or "127.0.0.1",
        port=str(owner["PORT"] or 5432),
        user=owner["USER"],
        password=owner["PASSWORD"],
        database=app["NAME"],
    )


def postgres_tool(name: str, target: Target) -> str:
    """pg_dump or pg_restore of the server's major version (Debian keeps one per version)."""
    with target.connect() as conn:
        version = conn.execute("SHOW server_version_num").fetchone()[0]  # type: ignore[index]
    path = Path(f"/usr/lib/postgresql/{int(version) // 10000}/bin/{name}")
    return str(path) if path.exists() else name


def _run(command: list[str], target: Target) -> None:
    done = subprocess.run(
        command, env=target.tool_env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-2000:]}")


class BackupError(Exception):
    pass


# --- Taking and keeping backups -----------------------------------------------------------


def take_backup(*, into: Path | None = None, now: datetime | None = None) -> Backup:
    """Dump the database and archive the media into a new folder; returns the backup."""
    target = owner_target()
    moment = now or datetime.now(UTC)
    folder = _new_folder(Path(into or settings.BACKUP_DIR), moment)
    pg_dump = postgres_tool("pg_dump", target)
    try:
        with exported_snapshot(target) as (snapshot, tables):
            _run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-password",
                 f"--file={folder / DUMP}", f"--dbname={target.database}"],
                target,
            )  # fmt: skip
        media_files = archive_media(folder / MEDIA)
        manifest = {
            "created_at": moment.isoformat(),
            "database": target.database,
            "tables": tables,
            "media_files": media_files,
            "dump_bytes": (folder / DUMP).stat().st_size,
        }
        partial = folder / f"{MANIFEST}.partial"
        partial.write_text(json.dumps(manifest, indent=1, sort_keys=True))
        partial.rename(folder / MANIFEST)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    BACKUP_SUCCEEDED_AT.set(moment.timestamp())
    return Backup(folder=folder, manifest=manifest)


def _new_folder(root: Path, moment: datetime) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    for attempt in range(100):
        folder = root / (stamp if attempt == 0 else f"{stamp}-{attempt}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise BackupError(f"too many backups named {stamp} in {root}")


@contextmanager
def exported_snapshot(target: Target) -> Iterator[tuple[str, dict[str, int]]]:
    """A snapshot other sessions can use (pg_dump --snapshot), with every table's row count
    in it; the snapshot lives as long as the block."""
    with target.connect() as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        tables = count_rows(conn)
        yield snapshot, tables
        conn.rollback()


def count_rows(conn: psycopg.Connection) -> dict[str, int]:
    """Every table's exact row count ("schema.table": rows)."""
    names = conn.execute(
        "SELECT schemaname, tablename FROM pg_tables"
        " WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
    ).fetchall()
    counts = {}
    for schema, table in names:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
        counts[f"{schema}.{table}"] = conn.execute(query).fetchone()[0]  # type: ignore[index]
    return counts


def media_roots() -> dict[str, Path]:
    return {"media": Path(settings.MEDIA_ROOT), "private": Path(settings.PRIVATE_MEDIA_ROOT)}


def archive_media(path: Path) -> int:
    """Tar (gzip) the public and private uploads; returns how many files went in."""
    files = 0
    with tarfile.open(path, "w:gz") as archive:
        for name, root in media_roots().items():
            if not root.is_dir():
                continue
            for file in sorted(root.rglob("*")):
                if file.is_file():
                    archive.add(file, arcname=f"{name}/{file.relative_to(root)}")
                    files += 1
    return files


def backups(root: Path | None = None) -> list[Backup]:
    """Finished backups, oldest first."""
    folder = Path(root or settings.BACKUP_DIR)
    found = []
    for each in sorted(folder.iterdir()) if folder.is_dir() else []:
        manifest = each / MANIFEST
        if manifest.is_file():
            found.append(Backup(folder=each, manifest=json.loads(manifest.read_text())))
    return found


def latest_backup(root: Path | None = None) -> Backup | None:
    found = backups(root)
    return found[-1] if found else None


def prune_backups(*, keep: int | None = None, root: Path | None = None) -> list[str]:
    """Delete all but the newest `keep` (BACKUP_KEEP) finished backups, and unfinished folders
    older than the newest finished one; returns the names deleted."""
    keep = settings.BACKUP_KEEP if keep is None else keep
    folder = Path(root or settings.BACKUP_DIR)
    finished = backups(folder)
    doomed = [each.folder for each in finished[: max(0, len(finished) - max(keep, 1))]]
    if finished:
        newest = finished[-1].name
        doomed += [
            each
            for each in sorted(folder.iterdir())
            if each.is_dir() and not (each / MANIFEST).exists() and each.name < newest
        ]
    for each in doomed:
        shutil.rmtree(each)
    return sorted(each.name for each in doomed)


# --- Proving a backup restores --------------------------------------------------------------


def scratch_database_name(target: Target) -> str:
    return (target.database + SCRATCH_SUFFIX)[-63:]


def restore_backup(backup: Backup, *, database: str) -> None:
    """Restore into a new database of that name (dropped first if it exists), made from
    template1, which holds PostGIS (only a superuser may create it). Left out of the dump's
    contents: the extensions the new database already has, and PostGIS's own table of spatial
    references (spatial_ref_sys), filled in template1 by the extension's owner; the platform
    adds no references of its own. Other extensions (btree_gist, trusted) are created by the
    restore, as the owner."""
    target = owner_target()
    drop_database(database)
    with target.connect("postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    with target.connect(database) as conn:
        present = {row[0] for row in conn.execute("SELECT extname FROM pg_extension")}
    pg_restore = postgres_tool("pg_restore", target)
    listing = subprocess.run(
        [pg_restore, "--list", str(backup.folder / DUMP)],
        env=target.tool_env(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    wanted = [
        line for line in listing.stdout.splitlines() if not _comes_with_template(line, present)
    ]
    use_list = backup.folder / "restore.list"
    use_list.write_text("\n".join(wanted) + "\n")
    try:
        _run(
            [pg_restore, "--no-owner", "--exit-on-error", "--no-password",
             f"--use-list={use_list}", f"--dbname={database}", str(backup.folder / DUMP)],
            target,
        )  # fmt: skip
    finally:
        use_list.unlink(missing_ok=True)


_EXTENSION_ENTRY = re.compile(r" (?:EXTENSION - |COMMENT - EXTENSION )(\S+)")


def _comes_with_template(toc_line: str, extensions: set[str]) -> bool:
    """A line of `pg_restore --list` for what the new database already has."""
    if " TABLE DATA public spatial_ref_sys " in toc_line:
        return True
    found = _EXTENSION_ENTRY.search(toc_line)
    return found is not None and found.group(1) in extensions


def drop_database(database: str) -> None:
    with owner_target().connect("postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )


def check_restored(backup: Backup, *, database: str) -> RestoreCheck:
    """Compare the restored copy with the manifest and run every registered check on it."""
    outcomes = {"rows": _compare_rows(backup, database), "media": _check_media(backup)}
    autodiscover_modules("restore_checks")
    with connected_to(database):
        for name, check in _restored_copy_checks.items():
            try:
                outcomes[name] = check()
            except Exception as exc:
                logger.exception("restore-check: %s raised", name)
                outcomes[name] = CheckOutcome(False, f"raised {exc.__class__.__name__}: {exc}")
    return RestoreCheck(backup=backup.name, outcomes=outcomes)


def restore_check(backup: Backup | None = None, *, keep_copy: bool = False) -> RestoreCheck:
    """Restore the newest backup (or the one given) into a scratch database, check it, drop
    it (unless `keep_copy`); never raises for what it finds."""
    backup = backup or latest_backup()
    if backup is None:
        return RestoreCheck(
            backup="-", outcomes={"backup": CheckOutcome(False, f"none in {settings.BACKUP_DIR}")}
        )
    database = scratch_database_name(owner_target())
    try:
        restore_backup(backup, database=database)
    except (BackupError, subprocess.CalledProcessError, psycopg.Error) as exc:
        drop_database(database)
        return RestoreCheck(backup=backup.name, outcomes={"restore": CheckOutcome(False, str(exc))})
    try:
        return check_restored(backup, database=database)
    finally:
        if not keep_copy:
            drop_database(database)


def _compare_rows(backup: Backup, database: str) -> CheckOutcome:
    with owner_target().connect(database) as conn:
        restored = count_rows(conn)
    expected: dict[str, int] = backup.manifest["tables"]
    differ = [
        f"{table} {expected.get(table, 'missing')}→{restored.get(table, 'missing')}"
        for table in sorted(set(expected) | set(restored))
        if expected.get(table) != restored.get(table)
    ]
    if differ:
        return CheckOutcome(False, "row counts differ: " + ", ".join(differ[:10]))
    return CheckOutcome(
        True, f"{len(expected)} tables, {sum(expected.values())} rows as in the source"
    )


def _check_media(backup: Backup) -> CheckOutcome:
    try:
        with tarfile.open(backup.folder / MEDIA, "r:gz") as archive:
            files = sum(1 for member in archive.getmembers() if member.isfile())
    except (OSError, tarfile.TarError) as exc:
        return CheckOutcome(False, f"media archive unreadable: {exc}")
    if files != backup.manifest["media_files"]:
        return CheckOutcome(
            False, f"media archive holds {files} files, {backup.manifest['media_files']} expected"
        )
    return CheckOutcome(True, f"{files} media files")


@contextmanager
def connected_to(database: str) -> Iterator[None]:
    """Point the default connection (and its pool) at another database of the same server for
    the block. Outside any transaction only: the block's queries must not mix databases."""
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.in_atomic_block:
        raise RuntimeError("connected_to() cannot switch databases inside a transaction")
    saved = conn.settings_dict["NAME"]
    _disconnect(conn)
    conn.settings_dict["NAME"] = database
    try:
        yield
    finally:
        _disconnect(conn)
        conn.settings_dict["NAME"] = saved


def _disconnect(conn) -> None:
    conn.close()
    if conn.settings_dict["OPTIONS"].get("pool"):
        conn.close_pool()
