"""The audit log is append-only in PostgreSQL itself, whoever connects; the application's
role may not even truncate it or switch its trigger off."""

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction

from accounts.choices import AuditAction
from accounts.models import AuditEntry
from accounts.services.audit import record_audit
from tests.conftest import application_database_url

pytestmark = pytest.mark.django_db


def test_database_refuses_update_and_delete_of_an_audit_entry(farmer):
    entry = record_audit(action=AuditAction.SIGN_IN, actor=farmer, subject=farmer)
    for statement in (
        "UPDATE accounts_auditentry SET action = 'payout' WHERE id = %s",
        "DELETE FROM accounts_auditentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [entry.pk])
    entry.refresh_from_db()
    assert entry.action == AuditAction.SIGN_IN


def test_audit_keeps_that_a_phone_changed_but_only_masked(farmer):
    record_audit(
        action=AuditAction.PHONE_CHANGED,
        actor=farmer,
        subject=farmer,
        target=farmer,
        changes={"phone": ("+8613800138000", "+8613900139001"), "display_name": ("A", "B")},
        address="10.0.0.7",
    )
    entry = AuditEntry.objects.get(subject=farmer)
    assert entry.changes == {"phone": ["138****8000", "139****9001"], "display_name": ["…", "…"]}
    assert entry.object_label == ""
    assert entry.client_address == "10.0.0.7"


def as_application_role(statement: str) -> None:
    """Run one statement as the role web processes and workers connect as."""
    url = application_database_url().replace("postgis://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=False) as conn, conn.cursor() as cursor:
        try:
            cursor.execute(statement)
        finally:
            conn.rollback()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE accounts_auditentry SET action = 'payout'",
        "DELETE FROM accounts_auditentry",
        "TRUNCATE accounts_auditentry",
        "ALTER TABLE accounts_auditentry DISABLE TRIGGER audit_entry_immutable",
        "DROP TRIGGER audit_entry_immutable ON accounts_auditentry",
    ],
)
def test_application_role_cannot_rewrite_or_empty_the_log(farmer, statement):
    record_audit(action=AuditAction.SIGN_IN, actor=farmer, subject=farmer)

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_application_role(statement)
    assert AuditEntry.objects.count() == 1


def test_application_role_adds_to_the_log_and_reads_it(farmer):
    as_application_role(
        "INSERT INTO accounts_auditentry (at, action, object_type, object_id, object_label,"
        " changes) VALUES (now(), 'sign_in', '', '', '', '{}')"
    )
    as_application_role("SELECT count(*) FROM accounts_auditentry")


def test_an_entry_names_its_object_by_model_and_id_never_by_its_text(member):
    """A membership's text is "<her name> @ <co-operative>": the log must not copy it."""
    membership = member.membership
    entry = record_audit(action=AuditAction.ROLE_CHANGED, actor=member, target=membership)

    assert entry.object_label == f"membership #{membership.pk}"
    assert str(member) not in entry.object_label
