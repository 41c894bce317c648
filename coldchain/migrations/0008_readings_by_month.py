"""The readings table becomes a table partitioned by month of `recorded_at` (PostgreSQL
declarative partitioning, which Django cannot express, so this is SQL and the model's state is
unchanged): the same columns, key, BRIN index and foreign key on the parent; one partition per
month of the existing rows and of the months ahead; a DEFAULT partition so that no reading is
ever refused for want of its month. The rows are copied over and the old table dropped.

Partitions are made and dropped by functions owned by the table's owner and run with its
rights (SECURITY DEFINER): the application role, which the web and the workers (beat included)
connect as, has no right to change the schema; it may only call these two (common/db_roles.py
grants EXECUTE).
"""

from django.db import migrations

PREPARE_PARTITION = r"""
CREATE OR REPLACE FUNCTION coldchain_prepare_reading_partition(p_month date)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    month_start timestamptz := date_trunc('month', p_month::timestamp) AT TIME ZONE 'UTC';
    month_end timestamptz :=
        (date_trunc('month', p_month::timestamp) + interval '1 month') AT TIME ZONE 'UTC';
    partition_name text := 'coldchain_reading_' || to_char(p_month, 'YYYY_MM');
    grant_row record;
BEGIN
    -- One maker at a time (two beat runs, a migration); a transaction lock, so it is also
    -- safe behind PgBouncer in transaction mode.
    PERFORM pg_advisory_xact_lock(hashtext('coldchain_reading_partitions'));
    IF to_regclass(partition_name) IS NOT NULL THEN
        RETURN false;
    END IF;
    -- Made apart, filled with the month's rows the DEFAULT partition caught, then attached:
    -- CREATE … PARTITION OF would be refused while DEFAULT holds rows of the month.
    EXECUTE format(
        'CREATE TABLE %I (LIKE coldchain_reading INCLUDING DEFAULTS INCLUDING STORAGE)',
        partition_name
    );
    EXECUTE format(
        'ALTER TABLE %I ADD CONSTRAINT %I CHECK (recorded_at >= %L AND recorded_at < %L)',
        partition_name, partition_name || '_month', month_start, month_end
    );
    EXECUTE format(
        'WITH moved AS (DELETE FROM coldchain_reading_default '
        'WHERE recorded_at >= $1 AND recorded_at < $2 RETURNING *) '
        'INSERT INTO %I SELECT * FROM moved', partition_name
    ) USING month_start, month_end;
    EXECUTE format(
        'ALTER TABLE coldchain_reading ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
        partition_name, month_start, month_end
    );
    -- The CHECK spared ATTACH a scan; the partition bound says the same from now on.
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', partition_name, partition_name || '_month');
    -- Whoever may use the parent may use the month directly too (the application role).
    FOR grant_row IN
        SELECT grantee.rolname, acl.privilege_type
        FROM pg_class parent, aclexplode(parent.relacl) acl
        JOIN pg_roles grantee ON grantee.oid = acl.grantee
        WHERE parent.oid = 'coldchain_reading'::regclass AND acl.grantee <> parent.relowner
    LOOP
        EXECUTE format(
            'GRANT %s ON %I TO %I', grant_row.privilege_type, partition_name, grant_row.rolname
        );
    END LOOP;
    RETURN true;
END
$$;
REVOKE ALL ON FUNCTION coldchain_prepare_reading_partition(date) FROM PUBLIC;
"""

PARTITION_THE_TABLE = r"""
DO $$
DECLARE
    key_name text;
    logger_key_name text;
    month date;
    last_month date;
BEGIN
    SELECT conname INTO key_name FROM pg_constraint
    WHERE conrelid = 'coldchain_reading'::regclass AND contype = 'p';
    SELECT conname INTO logger_key_name FROM pg_constraint
    WHERE conrelid = 'coldchain_reading'::regclass AND contype = 'f';

    ALTER TABLE coldchain_reading RENAME TO coldchain_reading_unpartitioned;
    EXECUTE format('ALTER TABLE coldchain_reading_unpartitioned RENAME CONSTRAINT %I TO %I',
                   key_name, 'coldchain_reading_unpartitioned_pkey');
    EXECUTE format('ALTER TABLE coldchain_reading_unpartitioned DROP CONSTRAINT %I',
                   logger_key_name);
    ALTER INDEX reading_recorded_brin RENAME TO reading_recorded_brin_unpartitioned;

    CREATE TABLE coldchain_reading
        (LIKE coldchain_reading_unpartitioned INCLUDING DEFAULTS INCLUDING STORAGE)
        PARTITION BY RANGE (recorded_at);
    EXECUTE format('ALTER TABLE coldchain_reading ADD CONSTRAINT %I '
                   'PRIMARY KEY (logger_id, recorded_at)', key_name);
    EXECUTE format('ALTER TABLE coldchain_reading ADD CONSTRAINT %I FOREIGN KEY (logger_id) '
                   'REFERENCES coldchain_datalogger (id) DEFERRABLE INITIALLY DEFERRED',
                   logger_key_name);
    CREATE INDEX reading_recorded_brin ON coldchain_reading
        USING brin (recorded_at) WITH (autosummarize = on);
    CREATE TABLE coldchain_reading_default PARTITION OF coldchain_reading DEFAULT;

    SELECT coalesce(date_trunc('month', min(recorded_at) AT TIME ZONE 'UTC')::date,
                    date_trunc('month', now() AT TIME ZONE 'UTC')::date)
    INTO month FROM coldchain_reading_unpartitioned;
    last_month := (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '3 months')::date;
    SELECT greatest(last_month,
                    coalesce(date_trunc('month', max(recorded_at) AT TIME ZONE 'UTC')::date,
                             last_month))
    INTO last_month FROM coldchain_reading_unpartitioned;
    WHILE month <= last_month LOOP
        PERFORM coldchain_prepare_reading_partition(month);
        month := (month + interval '1 month')::date;
    END LOOP;

    INSERT INTO coldchain_reading SELECT * FROM coldchain_reading_unpartitioned;
    DROP TABLE coldchain_reading_unpartitioned;
END
$$;
"""

# Back to one table, rows kept (for a rollback of the release).
UNPARTITION_THE_TABLE = r"""
DO $$
DECLARE
    key_name text;
    logger_key_name text;
BEGIN
    SELECT conname INTO key_name FROM pg_constraint
    WHERE conrelid = 'coldchain_reading'::regclass AND contype = 'p';
    SELECT conname INTO logger_key_name FROM pg_constraint
    WHERE conrelid = 'coldchain_reading'::regclass AND contype = 'f';
    ALTER TABLE coldchain_reading RENAME TO coldchain_reading_partitioned;
    EXECUTE format('ALTER TABLE coldchain_reading_partitioned RENAME CONSTRAINT %I TO %I',
                   key_name, 'coldchain_reading_partitioned_pkey');
    ALTER INDEX reading_recorded_brin RENAME TO reading_recorded_brin_partitioned;
    CREATE TABLE coldchain_reading
        (LIKE coldchain_reading_partitioned INCLUDING DEFAULTS INCLUDING STORAGE);
    INSERT INTO coldchain_reading SELECT * FROM coldchain_reading_partitioned;
    DROP TABLE coldchain_reading_partitioned CASCADE;
    EXECUTE format('ALTER TABLE coldchain_reading ADD CONSTRAINT %I '
                   'PRIMARY KEY (logger_id, recorded_at)', key_name);
    EXECUTE format('ALTER TABLE coldchain_reading ADD CONSTRAINT %I FOREIGN KEY (logger_id) '
                   'REFERENCES coldchain_datalogger (id) DEFERRABLE INITIALLY DEFERRED',
                   logger_key_name);
    CREATE INDEX reading_recorded_brin ON coldchain_reading
        USING brin (recorded_at) WITH (autosummarize = on);
END
$$;
DROP FUNCTION coldchain_prepare_reading_partition(date);
"""


class Migration(migrations.Migration):
    dependencies = [("coldchain", "0007_shipment_events")]

    operations = [
        migrations.RunSQL(
            PREPARE_PARTITION + PARTITION_THE_TABLE, reverse_sql=UNPARTITION_THE_TABLE
        ),
    ]
