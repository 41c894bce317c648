"""A consumer order's payment is an entry of the settlement app's ledger now: state only (the
column and its foreign key to marketplace_journalentry are unchanged)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('delivery', '0004_private_files'),
        ('settlement', '0001_initial'),
    ]

    # Before marketplace forgets its copy of JournalEntry.
    run_before = [
        ('marketplace', '0009_ledger_moves_to_settlement'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='deliveryorder',
                    name='payment_entry',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='settlement.journalentry', verbose_name='payment'),
                ),
            ],
            database_operations=[],
        ),
    ]
