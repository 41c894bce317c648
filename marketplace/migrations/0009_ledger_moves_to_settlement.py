"""The ledger is the settlement app's now: state only.

marketplace's relations (a market's book, a trade's entries, a funding request's account and
entry) point at settlement's models, and marketplace forgets its copies of them. The tables,
their rows, columns, foreign keys and triggers stay as they are (settlement 0001 took the
models over with their table names).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('marketplace', '0008_payment_holds'),
        ('settlement', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='market',
                    name='book',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='market', to='settlement.book', verbose_name='book'),
                ),
                migrations.AlterField(
                    model_name='trade',
                    name='entry',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='trade', to='settlement.journalentry', verbose_name='settlement entry'),
                ),
                migrations.AlterField(
                    model_name='trade',
                    name='reversal',
                    field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reversed_trade', to='settlement.journalentry', verbose_name='reversal entry'),
                ),
                migrations.AlterField(
                    model_name='fundingrequest',
                    name='account',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='settlement.account', verbose_name='account'),
                ),
                migrations.AlterField(
                    model_name='fundingrequest',
                    name='entry',
                    field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='funding_request', to='settlement.journalentry', verbose_name='journal entry'),
                ),
                migrations.DeleteModel(name='PaymentHold'),
                migrations.DeleteModel(name='Posting'),
                migrations.DeleteModel(name='BalanceSlot'),
                migrations.DeleteModel(name='JournalEntry'),
                migrations.DeleteModel(name='Account'),
                migrations.DeleteModel(name='Book'),
            ],
            database_operations=[],
        ),
    ]
