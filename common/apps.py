from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from .db_roles import grant_after_migrate

        # Sent for this app after every app has migrated: all tables exist by then.
        post_migrate.connect(grant_after_migrate, sender=self, dispatch_uid="grant_app_role")
