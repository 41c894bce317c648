"""The ledger's models move from marketplace to settlement: state only.

The tables stay where they are, with their names (`marketplace_book`, …), their rows, and the
triggers marketplace migrations 0004, 0005 and 0008 put on them; nothing is done to the
database here. marketplace 0009 then points marketplace's relations at these models and
forgets its own copies.
"""

import django.db.models.deletion
import djmoney.models.fields
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('marketplace', '0008_payment_holds'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Book',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('market', 'Wholesale market'), ('platform', 'Platform')], max_length=16, verbose_name='kind')),
                        ('code', models.SlugField(max_length=40, unique=True, verbose_name='code')),
                        ('name', models.CharField(max_length=120, verbose_name='name')),
                    ],
                    options={
                        'verbose_name': 'book',
                        'verbose_name_plural': 'books',
                        'db_table': 'marketplace_book',
                    },
                ),
                migrations.CreateModel(
                    name='Account',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('prepaid', 'Prepaid balance'), ('payable', 'Seller payable'), ('held', 'Held for open orders'), ('commission', 'Commission revenue'), ('sales', 'Shop sales revenue'), ('cash', 'Cash clearing'), ('bank', 'Bank clearing')], max_length=16, verbose_name='kind')),
                        ('name', models.CharField(max_length=160, verbose_name='name')),
                        ('slots', models.PositiveSmallIntegerField(default=1, help_text='Rows its cached balance is spread over, so busy accounts lock less.', verbose_name='balance slots')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                        ('trader', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='accounts', to='marketplace.trader', verbose_name='trader')),
                        ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='ledger_accounts', to=settings.AUTH_USER_MODEL, verbose_name='user')),
                        ('book', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='accounts', to='settlement.book', verbose_name='book')),
                    ],
                    options={
                        'verbose_name': 'account',
                        'verbose_name_plural': 'accounts',
                        'db_table': 'marketplace_account',
                    },
                ),
                migrations.CreateModel(
                    name='JournalEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('top_up', 'Top-up'), ('trade', 'Trade'), ('order', 'Order'), ('reversal', 'Reversal'), ('payout', 'Payout'), ('withdrawal', 'Withdrawal'), ('shop_order', 'Shop order'), ('refund', 'Refund'), ('hold', 'Payment hold'), ('release', 'Hold released')], max_length=16, verbose_name='kind')),
                        ('memo', models.CharField(blank=True, max_length=200, verbose_name='memo')),
                        ('business_date', models.DateField(db_index=True, verbose_name='business date')),
                        ('created_at', models.DateTimeField(verbose_name='created at')),
                        ('reference', models.CharField(blank=True, db_index=True, max_length=64, verbose_name='reference')),
                        ('idempotency_key', models.CharField(max_length=160, unique=True, verbose_name='idempotency key')),
                        ('request_hash', models.CharField(max_length=64, verbose_name='request hash')),
                        ('content_hash', models.CharField(max_length=64, verbose_name='content hash')),
                        ('seal_seq', models.BigIntegerField(blank=True, null=True, unique=True, verbose_name='seal number')),
                        ('chain_hash', models.CharField(blank=True, max_length=64, verbose_name='chain hash')),
                        ('book', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='settlement.book', verbose_name='book')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recorded by')),
                        ('reverses', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reversed_by', to='settlement.journalentry', verbose_name='reverses')),
                    ],
                    options={
                        'verbose_name': 'journal entry',
                        'verbose_name_plural': 'journal entries',
                        'db_table': 'marketplace_journalentry',
                    },
                ),
                migrations.CreateModel(
                    name='PaymentHold',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('amount_currency', djmoney.models.fields.CurrencyField(choices=[('CNY', 'Chinese Yuan')], default='CNY', editable=False, max_length=3)),
                        ('amount', djmoney.models.fields.MoneyField(decimal_places=2, max_digits=14, verbose_name='amount')),
                        ('captured_amount_currency', djmoney.models.fields.CurrencyField(choices=[('CNY', 'Chinese Yuan')], default='CNY', editable=False, max_length=3, null=True)),
                        ('captured_amount', djmoney.models.fields.MoneyField(decimal_places=2, max_digits=14, null=True, verbose_name='captured')),
                        ('reference', models.CharField(db_index=True, max_length=64, verbose_name='reference')),
                        ('status', models.CharField(choices=[('held', 'Held'), ('captured', 'Captured'), ('released', 'Released')], default='held', max_length=16, verbose_name='status')),
                        ('idempotency_key', models.CharField(max_length=160, unique=True, verbose_name='idempotency key')),
                        ('created_at', models.DateTimeField(verbose_name='created at')),
                        ('closed_at', models.DateTimeField(blank=True, null=True, verbose_name='closed at')),
                        ('close_entry', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='settlement.journalentry', verbose_name='closing entry')),
                        ('held_account', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='settlement.account', verbose_name='held funds')),
                        ('hold_entry', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='settlement.journalentry', verbose_name='hold entry')),
                        ('wallet', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='holds', to='settlement.account', verbose_name='wallet')),
                    ],
                    options={
                        'verbose_name': 'payment hold',
                        'verbose_name_plural': 'payment holds',
                        'db_table': 'marketplace_paymenthold',
                    },
                ),
                migrations.CreateModel(
                    name='Posting',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('slot', models.PositiveSmallIntegerField(default=0, verbose_name='slot')),
                        ('amount_currency', djmoney.models.fields.CurrencyField(choices=[('CNY', 'Chinese Yuan')], default='CNY', editable=False, max_length=3)),
                        ('amount', djmoney.models.fields.MoneyField(decimal_places=2, max_digits=14, verbose_name='amount')),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='postings', to='settlement.account', verbose_name='account')),
                        ('entry', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='postings', to='settlement.journalentry', verbose_name='entry')),
                    ],
                    options={
                        'verbose_name': 'posting',
                        'verbose_name_plural': 'postings',
                        'db_table': 'marketplace_posting',
                    },
                ),
                migrations.CreateModel(
                    name='BalanceSlot',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('slot', models.PositiveSmallIntegerField(verbose_name='slot')),
                        ('amount', models.DecimalField(decimal_places=2, default=0, max_digits=14, verbose_name='amount')),
                        ('no_overdraft', models.BooleanField(default=False, verbose_name='may not be overdrawn')),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='balance_slots', to='settlement.account', verbose_name='account')),
                    ],
                    options={
                        'verbose_name': 'balance slot',
                        'verbose_name_plural': 'balance slots',
                        'db_table': 'marketplace_balanceslot',
                        'constraints': [models.UniqueConstraint(fields=('account', 'slot'), name='ledger_balance_slot_unique'), models.CheckConstraint(condition=models.Q(('no_overdraft', False), ('amount__lte', 0), _connector='OR'), name='ledger_prepaid_not_overdrawn')],
                    },
                ),
                migrations.AddConstraint(
                    model_name='account',
                    constraint=models.CheckConstraint(condition=models.Q(('trader__isnull', True), ('user__isnull', True), _connector='OR'), name='ledger_account_one_holder'),
                ),
                migrations.AddConstraint(
                    model_name='account',
                    constraint=models.UniqueConstraint(condition=models.Q(('trader__isnull', False)), fields=('book', 'kind', 'trader'), name='ledger_account_unique_per_trader'),
                ),
                migrations.AddConstraint(
                    model_name='account',
                    constraint=models.UniqueConstraint(condition=models.Q(('user__isnull', False)), fields=('book', 'kind', 'user'), name='ledger_account_unique_per_user'),
                ),
                migrations.AddConstraint(
                    model_name='account',
                    constraint=models.UniqueConstraint(condition=models.Q(('trader__isnull', True), ('user__isnull', True)), fields=('book', 'kind'), name='ledger_account_unique_book_owned'),
                ),
                migrations.AddConstraint(
                    model_name='account',
                    constraint=models.CheckConstraint(condition=models.Q(('slots__gte', 1)), name='ledger_account_slots'),
                ),
                migrations.AddIndex(
                    model_name='journalentry',
                    index=models.Index(condition=models.Q(('seal_seq__isnull', True)), fields=['id'], name='ledger_entry_unsealed'),
                ),
                migrations.AddIndex(
                    model_name='journalentry',
                    index=models.Index(fields=['book', 'business_date', 'kind'], name='ledger_entry_book_day'),
                ),
                migrations.AddIndex(
                    model_name='paymenthold',
                    index=models.Index(condition=models.Q(('status', 'held')), fields=['held_account'], name='ledger_hold_open_by_account'),
                ),
                migrations.AddConstraint(
                    model_name='paymenthold',
                    constraint=models.CheckConstraint(condition=models.Q(('status__in', ['held', 'captured', 'released'])), name='ledger_hold_status_valid'),
                ),
                migrations.AddConstraint(
                    model_name='paymenthold',
                    constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='ledger_hold_amount_positive'),
                ),
                migrations.AddConstraint(
                    model_name='paymenthold',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('close_entry__isnull', True), ('closed_at__isnull', True), ('status', 'held')), models.Q(models.Q(('status', 'held'), _negated=True), ('close_entry__isnull', False), ('closed_at__isnull', False)), _connector='OR'), name='ledger_hold_closed_by_an_entry'),
                ),
                migrations.AddConstraint(
                    model_name='paymenthold',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('captured_amount__gte', 0), ('status', 'captured')), models.Q(models.Q(('status', 'captured'), _negated=True), ('captured_amount__isnull', True)), _connector='OR'), name='ledger_hold_captured_amount'),
                ),
                migrations.AddConstraint(
                    model_name='paymenthold',
                    constraint=models.UniqueConstraint(condition=models.Q(('status', 'held')), fields=('reference',), name='ledger_hold_one_open_per_reference'),
                ),
                migrations.AddIndex(
                    model_name='posting',
                    index=models.Index(fields=['account', 'entry'], name='ledger_posting_account'),
                ),
            ],
            database_operations=[],
        ),
    ]
