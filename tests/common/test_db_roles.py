"""The application's database role cannot rewrite the ledger or change the schema.

Tests run as the tables' owner; these open a connection of their own as the role web
processes and workers use (scripts/services.sh creates it, `migrate` grants it its rights).
"""

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from common.db_roles import grant_application_role
from tests.conftest import application_database_url

REFUSED = [
    "UPDATE marketplace_posting SET amount = amount + 1",
    "DELETE FROM marketplace_posting",
    "UPDATE marketplace_journalentry SET memo = 'rewritten'",
    "DELETE FROM marketplace_journalentry",
    "TRUNCATE marketplace_posting",
    "ALTER TABLE marketplace_posting DISABLE TRIGGER ALL",
    "ALTER TABLE marketplace_journalentry DISABLE TRIGGER USER",
    "DROP TABLE marketplace_posting",
    "CREATE TABLE stolen (id int)",
]


def as_application_role(statement: str) -> None:
    url = application_database_url().replace("postgis://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=False) as conn, conn.cursor() as cursor:
        try:
            cursor.execute(statement)
        finally:
            conn.rollback()


@pytest.mark.django_db
@pytest.mark.parametrize("statement", REFUSED)
def test_application_role_cannot_rewrite_the_ledger_or_the_schema(statement):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_application_role(statement)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "SELECT count(*) FROM marketplace_posting",
        # Sealing fills in an entry's seal once, after commit.
        "UPDATE marketplace_journalentry SET seal_seq = seal_seq, chain_hash = chain_hash",
        "UPDATE marketplace_balanceslot SET amount = amount",
        "DELETE FROM django_session",
    ],
)
def test_application_role_does_its_daily_work(statement):
    as_application_role(statement)


@pytest.mark.django_db
def test_granting_again_changes_nothing():
    assert grant_application_role() is True
    assert grant_application_role() is True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_table_privilege(%s, 'marketplace_posting', 'UPDATE'),"
            " has_table_privilege(%s, 'marketplace_posting', 'INSERT')",
            [settings.DATABASE_APP_ROLE] * 2,
        )
        assert cursor.fetchone() == (False, True)
