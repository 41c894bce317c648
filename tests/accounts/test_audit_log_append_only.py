"""The audit log is append-only in PostgreSQL itself, whoever connects."""

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.choices import AuditAction
from accounts.models import AuditEntry
from accounts.services.audit import record_audit

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
