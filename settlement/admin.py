"""The ledger in the admin: read-only; money moves only through the services."""

from django.contrib import admin

from .models import Account, Book, JournalEntry, PaymentHold, Posting


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PostingInline(admin.TabularInline):
    model = Posting
    extra = 0
    fields = ["account", "slot", "amount"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Book)
class BookAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "kind"]


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "book", "kind", "trader", "user", "slots"]
    list_filter = ["book", "kind"]
    search_fields = ["name", "trader__card_number", "user__username"]


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "book", "kind", "business_date", "memo", "reference", "seal_seq"]
    list_filter = ["book", "kind", "business_date"]
    search_fields = ["idempotency_key", "reference", "memo"]
    inlines = [PostingInline]


@admin.register(PaymentHold)
class PaymentHoldAdmin(ReadOnlyAdmin):
    list_display = ["id", "reference", "wallet", "amount", "status", "captured_amount"]
    list_filter = ["status"]
    search_fields = ["reference", "idempotency_key", "wallet__user__username"]
