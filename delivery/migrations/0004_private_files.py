"""Proof-of-delivery photos move out of the public media folder into the private one (their
names are already random: the photo service names them)."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import migrations, models, transaction

import common.private_files


def _move(apps, *, source, target):
    """Copy each photo from `source` to `target` and point its row at the copy; the originals
    are deleted only once the migration has committed, so a failed run loses nothing."""
    DeliveryOrder = apps.get_model("delivery", "DeliveryOrder")
    for order in DeliveryOrder.objects.exclude(proof_photo="").only("pk", "proof_photo"):
        old_name = order.proof_photo.name
        if not source.exists(old_name):
            continue  # already moved, or lost before this migration
        with source.open(old_name, "rb") as content:
            new_name = target.save(old_name, content)
        DeliveryOrder.objects.filter(pk=order.pk).update(proof_photo=new_name)
        transaction.on_commit(lambda name=old_name: source.delete(name))


def to_private(apps, schema_editor):
    public = FileSystemStorage(location=settings.MEDIA_ROOT)
    _move(apps, source=public, target=common.private_files.private_storage())


def to_public(apps, schema_editor):
    public = FileSystemStorage(location=settings.MEDIA_ROOT)
    _move(apps, source=common.private_files.private_storage(), target=public)


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0003_orders_couriers_dispatch_replenishment"),
    ]

    operations = [
        migrations.AlterField(
            model_name="deliveryorder",
            name="proof_photo",
            field=models.ImageField(
                blank=True,
                storage=common.private_files.private_storage,
                upload_to="deliveries/%Y/%m/",
                verbose_name="delivery photo",
            ),
        ),
        migrations.RunPython(to_private, to_public),
    ]
