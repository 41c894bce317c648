"""Pages: reconciliation (being built)."""

urlpatterns: list = []
