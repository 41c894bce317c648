"""Pages: prices (being built)."""

urlpatterns: list = []
