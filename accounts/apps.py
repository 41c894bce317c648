from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")
    # The application's database role may add to the audit log, never change, delete or
    # truncate it (common.db_roles), as for the ledger; the trigger refuses the owner too.
    append_only_models = {"AuditEntry": ()}

    def ready(self) -> None:
        from . import own_personal_data, receivers  # noqa: F401  (connects the sign-out receiver)

        own_personal_data.register()
