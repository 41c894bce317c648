"""The ledger is the settlement app's: its models, its content types and permissions, and the
tables it kept from the days it lived in marketplace. (bench/upgrade_check.py migrates a
database of the earlier layout and compares every balance.)"""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from common.db_roles import append_only_tables
from settlement.models import Account, BalanceSlot, Book, JournalEntry, PaymentHold, Posting

LEDGER_MODELS = [Book, Account, BalanceSlot, JournalEntry, Posting, PaymentHold]

content_types_migration = importlib.import_module("settlement.migrations.0002_content_types")


def test_the_ledger_models_are_settlements_and_keep_their_tables():
    for model in LEDGER_MODELS:
        assert model._meta.app_label == "settlement"
        assert model._meta.db_table == f"marketplace_{model._meta.model_name}"
    assert not any(
        model._meta.model_name in {"journalentry", "posting", "account"}
        for model in apps.get_app_config("marketplace").get_models()
    )


def test_the_ledgers_history_stays_append_only_under_its_new_app():
    tables = append_only_tables()
    assert tables["marketplace_posting"] == ()
    assert tables["marketplace_journalentry"] == ("seal_seq", "chain_hash")
    assert "status" in tables["marketplace_paymenthold"]


@pytest.mark.django_db
def test_permissions_of_the_ledger_are_settlements():
    permission = Permission.objects.get(codename="view_journalentry")
    assert permission.content_type.app_label == "settlement"
    assert not ContentType.objects.filter(app_label="marketplace", model="journalentry").exists()


@pytest.mark.django_db
def test_the_migration_moves_content_types_with_their_permissions():
    """A database of the earlier layout: the ledger's content types are marketplace's."""
    posting = ContentType.objects.get(app_label="settlement", model="posting")
    ContentType.objects.filter(pk=posting.pk).update(app_label="marketplace")
    granted = Permission.objects.filter(content_type_id=posting.pk).count()
    ContentType.objects.clear_cache()

    content_types_migration.move_content_types(apps, SimpleNamespace(connection=connection))

    moved = ContentType.objects.get(pk=posting.pk)
    assert moved.app_label == "settlement"
    assert Permission.objects.filter(content_type=moved).count() == granted > 0
    assert not ContentType.objects.filter(app_label="marketplace", model="posting").exists()
