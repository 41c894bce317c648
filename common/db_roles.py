"""The application's database role gets only the rights it needs.

Migrations run as the owner of the tables; web processes, workers and beat connect as the
application role (DATABASE_APP_ROLE). The owner grants that role, after every `migrate`:

- SELECT, INSERT, UPDATE, DELETE on every table and the use of every sequence;
- on the tables an app declares append-only, no UPDATE (except the columns it names), DELETE
  or TRUNCATE, so even a compromised process cannot rewrite history: the ledger's postings and
  journal entries (whose seal columns are filled in once, after commit) are such tables;
- no ownership, so no DDL: `ALTER TABLE … DISABLE TRIGGER` is refused by PostgreSQL itself.

An app declares its append-only tables on its AppConfig:
`append_only_models = {"Posting": (), "JournalEntry": ("seal_seq", "chain_hash")}`, and the
functions the role may call that run with the owner's rights (schema upkeep such as making a
month's partition): `owner_functions = ("coldchain_prepare_reading_partition(date)",)`.
"""

import logging

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models
from psycopg import sql

logger = logging.getLogger(__name__)


def _column_of(model: type[models.Model], field_name: str) -> str:
    field = model._meta.get_field(field_name)
    if not isinstance(field, models.Field) or field.column is None:
        raise ImproperlyConfigured(f"{model.__name__}.{field_name} is not a column")
    return field.column


def append_only_tables() -> dict[str, tuple[str, ...]]:
    """Table name → the columns that may still be updated, from every app's declaration."""
    tables: dict[str, tuple[str, ...]] = {}
    for config in apps.get_app_configs():
        for model_name, columns in getattr(config, "append_only_models", {}).items():
            model = config.get_model(model_name)
            tables[model._meta.db_table] = tuple(
                _column_of(model, field_name) for field_name in columns
            )
    return tables


def owner_functions() -> list[str]:
    """Signatures of the SECURITY DEFINER functions the application role may call."""
    return [
        signature
        for config in apps.get_app_configs()
        for signature in getattr(config, "owner_functions", ())
    ]


def grant_application_role(*, using: str = "default") -> bool:
    """Give the application role its rights on this database; False if there is no such role.

    Harmless to run again: GRANT and REVOKE of what is already so change nothing.
    """
    role = settings.DATABASE_APP_ROLE
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            logger.warning(
                "database role %r does not exist: the application role was given no rights "
                "(scripts/services.sh creates it)",
                role,
            )
            return False
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == role:
            return True  # the application role cannot grant itself anything
        grantee = sql.Identifier(role)

        def run(statement: sql.Composable) -> None:
            cursor.execute(statement.as_string(connection.connection))

        for statement in (
            "GRANT USAGE ON SCHEMA public TO {}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}",
            "REVOKE CREATE ON SCHEMA public FROM {}",
        ):
            run(sql.SQL(statement).format(grantee))
        for table, updatable in append_only_tables().items():
            run(
                sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(
                    sql.Identifier(table), grantee
                )
            )
            if updatable:
                run(
                    sql.SQL("GRANT UPDATE ({}) ON {} TO {}").format(
                        sql.SQL(", ").join(sql.Identifier(column) for column in updatable),
                        sql.Identifier(table),
                        grantee,
                    )
                )
        for signature in owner_functions():
            cursor.execute("SELECT to_regprocedure(%s)", [signature])
            if cursor.fetchone()[0] is not None:
                # The signature is the app's own code, not input.
                run(
                    sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(
                        sql.SQL(signature), grantee
                    )
                )
    return True


def grant_after_migrate(sender, *, using: str = "default", **kwargs) -> None:
    """post_migrate receiver (sent once for the common app, after every app has migrated)."""
    grant_application_role(using=using)
