"""The ledger's content types follow its models from marketplace to settlement, so their
permissions (and the groups and users holding them) and the admin's log entries follow too."""

from django.db import migrations

MODELS = ['book', 'account', 'balanceslot', 'journalentry', 'posting', 'paymenthold']


def move_content_types(apps, schema_editor, *, source='marketplace', target='settlement'):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    db = schema_editor.connection.alias
    for model in MODELS:
        # A content type already made for the target (by a post_migrate run) has no rows
        # pointing at it that matter more than the old one's: the old one wins.
        old = ContentType.objects.using(db).filter(app_label=source, model=model).first()
        if old is None:
            continue
        ContentType.objects.using(db).filter(app_label=target, model=model).delete()
        old.app_label = target
        old.save(update_fields=['app_label'])


def move_back(apps, schema_editor):
    move_content_types(apps, schema_editor, source='settlement', target='marketplace')


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('settlement', '0001_initial'),
        ('marketplace', '0009_ledger_moves_to_settlement'),
    ]

    operations = [
        migrations.RunPython(move_content_types, move_back),
    ]
