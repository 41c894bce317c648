from django.db import migrations


class Migration(migrations.Migration):
    """The app's first migration, empty: the tower's tables come in the ones after it."""

    initial = True
    dependencies = []
    operations = []
