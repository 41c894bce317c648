from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from . import own_personal_data, receivers  # noqa: F401  (connects the sign-out receiver)

        own_personal_data.register()
