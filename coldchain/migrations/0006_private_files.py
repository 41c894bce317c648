"""Handover logger records move out of the public media folder into the private one, each under
a random name (the old name was the shipment's code, so anyone could guess it)."""

import secrets

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import migrations, models, transaction

import coldchain.models
import common.private_files


def _move(apps, *, source, target, rename):
    """Copy each record from `source` to `target` and point its row at the copy; the originals
    are deleted only once the migration has committed, so a failed run loses nothing."""
    Handover = apps.get_model("coldchain", "Handover")
    for handover in Handover.objects.exclude(record_file="").only(
        "pk", "record_file", "recorded_at"
    ):
        old_name = handover.record_file.name
        if not source.exists(old_name):
            continue  # already moved, or lost before this migration
        with source.open(old_name, "rb") as content:
            new_name = target.save(rename(handover, old_name), content)
        Handover.objects.filter(pk=handover.pk).update(record_file=new_name)
        transaction.on_commit(lambda name=old_name: source.delete(name))


def _random_name(handover, old_name):
    return f"coldchain/handovers/{handover.recorded_at:%Y/%m}/{secrets.token_hex(16)}.csv"


def to_private(apps, schema_editor):
    public = FileSystemStorage(location=settings.MEDIA_ROOT)
    _move(apps, source=public, target=common.private_files.private_storage(), rename=_random_name)


def to_public(apps, schema_editor):
    public = FileSystemStorage(location=settings.MEDIA_ROOT)
    _move(
        apps,
        source=common.private_files.private_storage(),
        target=public,
        rename=lambda handover, old_name: old_name,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("coldchain", "0005_late_readings"),
    ]

    operations = [
        migrations.AlterField(
            model_name="handover",
            name="record_file",
            field=models.FileField(
                storage=common.private_files.private_storage,
                upload_to=coldchain.models.handover_record_path,
                verbose_name="logger record",
            ),
        ),
        migrations.RunPython(to_private, to_public),
    ]
