"""One logger watches one subject at a time: its assignment periods never overlap."""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("coldchain", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        migrations.RunSQL(
            """
            ALTER TABLE coldchain_loggerassignment
              ADD CONSTRAINT logger_assignment_no_overlap
              EXCLUDE USING gist (
                logger_id WITH =,
                tstzrange(starts_at, ends_at, '[)') WITH &&
              );
            """,
            "ALTER TABLE coldchain_loggerassignment DROP CONSTRAINT logger_assignment_no_overlap;",
        ),
    ]
