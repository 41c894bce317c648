"""The upgrade check: a database built on an earlier main migrates to this code with its ledger
unchanged.

    .venv/bin/python bench/upgrade_check.py [--rev 4a2a844] [--database fc_upgrade_check] [--keep]

1. creates a scratch database (dropped first if it exists);
2. checks the earlier revision out into a temporary git worktree (sharing this .venv),
   migrates the database there, loads the demo (`seed_demo`) and a little more ledger
   activity (a top-up, a withdrawal and an open payment hold, sealed, and one top-up left
   unsealed), and runs that revision's `verify_ledger`;
3. records every account's balance (from its postings and from its balance slots), the
   count of entries, postings and payment holds, and the chain head (the last seal and its
   chain hash);
4. migrates the same database with this code, runs `verify_ledger`, and records the same
   figures again, plus where the ledger's content types now live;
5. prints both and exits 1 on any difference (0 when everything is unchanged). Then it
   posts with this code (a top-up), seals, and verifies once more: the upgraded ledger
   keeps working.

Migrations run as the tables' owner (DATABASE_OWNER_URL's role, `freshchain` by default).
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
DEFAULT_REV = "4a2a844"
OWNER = os.environ.get("UPGRADE_CHECK_OWNER", "freshchain:freshchain@127.0.0.1:5432")
REDIS_URL = os.environ.get("UPGRADE_CHECK_REDIS_URL", "redis://127.0.0.1:6379/1")
LEDGER_MODELS = ("book", "account", "balanceslot", "journalentry", "posting", "paymenthold")

# More ledger activity on the earlier revision, with its own API (marketplace.ledger).
EXTRA_ACTIVITY = """
from decimal import Decimal
from accounts.models import User
from marketplace.ledger.holds import hold_payment
from marketplace.ledger.services import seal_entries, top_up, wallet_of, withdraw
holder = User.objects.filter(username='consumer').first() or User.objects.order_by('id').first()
wallet = wallet_of(holder)
top_up(account=wallet, amount=Decimal('123.45'), method='bank', by=holder,
       idempotency_key='upgrade-check-top-up')
withdraw(account=wallet, amount=Decimal('23.45'), method='cash', by=holder,
         idempotency_key='upgrade-check-withdrawal')
hold_payment(holder=holder, amount=Decimal('10.00'), reference='upgrade-check:hold',
             idempotency_key='upgrade-check-hold', by=holder)
while seal_entries():
    pass
top_up(account=wallet, amount=Decimal('1.00'), method='cash', by=holder,
       idempotency_key='upgrade-check-unsealed')
"""

# After the upgrade, with this code's API (settlement).
LIFE_GOES_ON = """
from decimal import Decimal
from accounts.models import User
from settlement.accounts import wallet_of
from settlement.funding import top_up
holder = User.objects.filter(username='consumer').first() or User.objects.order_by('id').first()
top_up(account=wallet_of(holder), amount=Decimal('7.00'), method='bank', by=holder,
       idempotency_key='upgrade-check-after-upgrade')
"""


def run(args: list[str], *, cwd: Path, env: dict, quiet: bool = False) -> str:
    print(f"$ {' '.join(args)}   (in {cwd})", flush=True)
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout[-4000:], result.stderr[-4000:], sep="\n")
        raise SystemExit(f"failed: {' '.join(args)} (exit {result.returncode})")
    if not quiet:
        print(result.stdout.rstrip())
    return result.stdout


def manage(tree: Path, env: dict, *args: str, quiet: bool = False) -> str:
    return run([str(PYTHON), "manage.py", *args], cwd=tree, env=env, quiet=quiet)


def recreate_database(name: str) -> None:
    with psycopg.connect(f"postgresql://{OWNER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    with psycopg.connect(f"postgresql://{OWNER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


def figures(name: str) -> dict:
    """What must survive the upgrade, read with plain SQL (the tables keep their names)."""
    with psycopg.connect(f"postgresql://{OWNER}/{name}") as connection:
        accounts = connection.execute(
            """
            SELECT a.id, b.code, a.kind,
                   coalesce((SELECT sum(p.amount) FROM marketplace_posting p
                              WHERE p.account_id = a.id), 0) AS posted,
                   coalesce((SELECT sum(s.amount) FROM marketplace_balanceslot s
                              WHERE s.account_id = a.id), 0) AS slots
              FROM marketplace_account a JOIN marketplace_book b ON b.id = a.book_id
             ORDER BY a.id
            """
        ).fetchall()
        counts = connection.execute(
            """
            SELECT (SELECT count(*) FROM marketplace_book),
                   (SELECT count(*) FROM marketplace_account),
                   (SELECT count(*) FROM marketplace_journalentry),
                   (SELECT count(*) FROM marketplace_journalentry WHERE seal_seq IS NULL),
                   (SELECT count(*) FROM marketplace_posting),
                   (SELECT count(*) FROM marketplace_paymenthold),
                   (SELECT coalesce(sum(amount) FILTER (WHERE amount > 0), 0)
                      FROM marketplace_posting)
            """
        ).fetchone()
        head = connection.execute(
            "SELECT seal_seq, chain_hash FROM marketplace_journalentry"
            " WHERE seal_seq IS NOT NULL ORDER BY seal_seq DESC LIMIT 1"
        ).fetchone()
        content_types = connection.execute(
            "SELECT model, app_label FROM django_content_type WHERE model = ANY(%s)"
            " AND app_label IN ('marketplace', 'settlement') ORDER BY model",
            [list(LEDGER_MODELS)],
        ).fetchall()
    books, account_count, entries, unsealed, postings, holds, debits = counts
    return {
        "balances": {row[0]: (row[1], row[2], row[3], row[4]) for row in accounts},
        "counts": {
            "books": books,
            "accounts": account_count,
            "entries": entries,
            "unsealed entries": unsealed,
            "postings": postings,
            "payment holds": holds,
            "debits in all": debits,
        },
        "head": tuple(head) if head else (0, "0" * 64),
        "content_types": dict(content_types),
    }


def show(title: str, found: dict) -> None:
    print(f"\n-- {title}")
    for label, value in found["counts"].items():
        print(f"   {label:18} {value}")
    print(f"   chain head         seal {found['head'][0]} {found['head'][1]}")
    off = [key for key, (_b, _k, posted, slots) in found["balances"].items() if posted != slots]
    total = sum(posted for (_b, _k, posted, _s) in found["balances"].values())
    print(
        f"   account balances   {len(found['balances'])} accounts, postings sum to {total}, "
        f"slots differing from postings: {len(off)}"
    )
    print(f"   content types      {found['content_types']}")


def differences(before: dict, after: dict) -> list[str]:
    found = [
        f"{key}: {before[key]} → {after[key]}"
        for key in ("counts", "head")
        if before[key] != after[key]
    ]
    for account, figures_before in before["balances"].items():
        figures_after = after["balances"].get(account)
        if figures_after != figures_before:
            found.append(f"account #{account}: {figures_before} → {figures_after}")
    found.extend(
        f"account #{account} appeared: {after['balances'][account]}"
        for account in after["balances"].keys() - before["balances"].keys()
    )
    moved = {model: "settlement" for model in LEDGER_MODELS if model in before["content_types"]}
    if after["content_types"] != moved:
        found.append(f"content types: {after['content_types']}, expected {moved}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", default=DEFAULT_REV, help="the earlier main to upgrade from")
    parser.add_argument("--database", default="fc_upgrade_check")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    options = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="fc-upgrade-"))
    old_tree = scratch / "tree"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgis://{OWNER}/{options.database}",
        "DATABASE_POOL_SIZE": "0",
        "DJANGO_DEBUG": "true",
        "DJANGO_SECRET_KEY": "upgrade-check",
        "REDIS_URL": REDIS_URL,
        "DJANGO_MEDIA_ROOT": str(scratch / "media"),
        "DJANGO_PRIVATE_MEDIA_ROOT": str(scratch / "private"),
        "DJANGO_STATIC_ROOT": str(scratch / "static"),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    recreate_database(options.database)
    run(["git", "worktree", "add", "--detach", str(old_tree), options.rev], cwd=ROOT, env=env)
    try:
        rev = run(["git", "rev-parse", "--short", "HEAD"], cwd=old_tree, env=env, quiet=True)
        print(f"\n== the earlier main ({rev.strip()}): migrate, demo, more ledger activity")
        manage(old_tree, env, "migrate", "--noinput", quiet=True)
        manage(old_tree, env, "seed_demo", quiet=True)
        manage(old_tree, env, "shell", "-c", EXTRA_ACTIVITY)
        manage(old_tree, env, "verify_ledger")
        before = figures(options.database)
        show(f"before the upgrade ({options.rev})", before)

        print("\n== this code: migrate the same database, verify")
        manage(ROOT, env, "migrate", "--noinput")
        manage(ROOT, env, "verify_ledger")
        after = figures(options.database)
        show("after the upgrade", after)

        found = differences(before, after)

        print("\n== this code keeps posting and sealing on the upgraded ledger")
        manage(ROOT, env, "shell", "-c", LIFE_GOES_ON)
        manage(ROOT, env, "verify_ledger", "--seal")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(old_tree)], cwd=ROOT)
        if not options.keep:
            drop_database(options.database)

    if found:
        print("\nThe upgrade changed the ledger:")
        for line in found:
            print(f"  ✗ {line}")
        return 1
    print(
        f"\nThe upgrade kept the ledger: {len(after['balances'])} account balances, "
        f"{after['counts']['entries']} entries, {after['counts']['postings']} postings and "
        f"the chain head (seal {after['head'][0]}) unchanged; verify_ledger passes."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
