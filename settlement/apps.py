from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SettlementConfig(AppConfig):
    """The one double-entry ledger: books, accounts, holds, postings, hash chain, checks."""

    name = "settlement"
    verbose_name = _("Settlement")
    # The ledger's history: the application's database role may add to it, never change it
    # (common/db_roles.py); an entry's seal is filled in once, after commit.
    append_only_models = {
        "Posting": (),
        "JournalEntry": ("seal_seq", "chain_hash"),
        # A hold is closed once (capture or release); a trigger refuses any other change.
        "PaymentHold": (
            "status",
            "captured_amount",
            "captured_amount_currency",
            "close_entry",
            "closed_at",
        ),
    }

    def ready(self) -> None:
        from . import personal_data

        personal_data.register()
